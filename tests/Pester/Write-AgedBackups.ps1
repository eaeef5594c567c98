<#
.SYNOPSIS
    Test helper: writes complete backups stamped in the past, through the engine's clock seam
    (RepositoryContext.Clock), which the cmdlets do not expose. Run in a child pwsh: it loads the
    engine into the default load context, which a test session must not do (Isolation.Tests.ps1).
#>
param(
    [Parameter(Mandatory)] [string] $ModuleFolder,
    [Parameter(Mandatory)] [string] $RepositoryPath,
    [Parameter(Mandatory)] [string] $KeyPath,
    [string] $Environment = 'prod',
    [string] $Kind = 'docs',
    [int] $Count = 50,
    [int] $DaysAgo = 30,
    [int] $ArtifactsPerBackup = 4
)
$ErrorActionPreference = 'Stop'
Get-ChildItem (Join-Path $ModuleFolder 'Dependencies') -Filter *.dll | ForEach-Object { Add-Type -Path $_.FullName }

class PastClock : System.TimeProvider {
    [DateTimeOffset] $At
    PastClock([DateTimeOffset] $at) { $this.At = $at }
    [DateTimeOffset] GetUtcNow() { return $this.At }
}

$key = [EcomDr.Engine.Pipeline.Crypto.LocalKeyFile]::Load($KeyPath)
$trust = [EcomDr.Engine.Pipeline.Repository.TrustedKeys]::new()
$trust.Add($key)
$store = [EcomDr.Engine.Pipeline.Storage.FileSystemStore]::new('primary', $RepositoryPath)
$clock = [PastClock]::new([DateTimeOffset]::UtcNow.AddDays(-$DaysAgo))
$providers = [EcomDr.Engine.Pipeline.Crypto.IKeyProvider[]]@($key)
$context = [EcomDr.Engine.Pipeline.Repository.RepositoryContext]::new($store, $Environment, $providers, $trust, $key, $null, $null, 2, $null, $clock)
$none = [System.Threading.CancellationToken]::None
$bytes = [byte[]]::new(4096)
for ($i = 0; $i -lt $Count; $i++) {
    $clock.At = $clock.At.AddMinutes(1)
    $writer = [EcomDr.Engine.Pipeline.Repository.BackupWriter]::BeginAsync($context, $Kind, $null, $none, $null).GetAwaiter().GetResult()
    try {
        for ($a = 0; $a -lt $ArtifactsPerBackup; $a++) {
            $produce = [Func[System.IO.Stream, System.Threading.CancellationToken, System.Threading.Tasks.Task]] { param($s, $ct) $s.WriteAsync($bytes, 0, $bytes.Length, $ct) }
            $null = $writer.AddArtifactAsync("part$a.bin", $produce, $none).GetAwaiter().GetResult()
        }
        $null = $writer.CompleteAsync($none).GetAwaiter().GetResult()
    }
    finally { $writer.DisposeAsync().AsTask().GetAwaiter().GetResult() }
}
Write-Output "wrote $Count $Kind backup(s) from $DaysAgo day(s) ago"
