<#
.SYNOPSIS
    Benchmarks the artifact pipeline (zstd + AES-256-GCM framing + SHA-256 x2 + file-system store)
    against `zstd -3 -T1` alone on the same inputs in the same run, and its peak memory for small
    and large artifacts. Writes the "Artifact pipeline" section of docs/benchmarks.md.
.EXAMPLE
    dotnet pwsh ./bench/pipeline.ps1 -SizeMB 1024 -LargeMB 5120
#>
#requires -Version 7.4
param(
    [int] $SizeMB = 1024,
    [int] $SmallMB = 100,
    [int] $LargeMB = 5120,
    [string] $WorkDir = (Join-Path ([IO.Path]::GetTempPath()) 'ecomdr-bench-pipeline')
)
$ErrorActionPreference = 'Stop'
$root = Split-Path $PSScriptRoot
& dotnet build (Join-Path $PSScriptRoot 'EcomDr.Bench/EcomDr.Bench.csproj') -c Release --nologo -v quiet -clp:ErrorsOnly
if ($LASTEXITCODE) { throw 'bench build failed' }
$bench = Join-Path $PSScriptRoot 'EcomDr.Bench/bin/Release/net8.0/EcomDr.Bench.dll'
Remove-Item $WorkDir -Recurse -Force -ErrorAction Ignore
New-Item -ItemType Directory $WorkDir | Out-Null
$key = Join-Path $WorkDir 'bench.key'

function Invoke-Pipeline([string] $Source) {
    $repo = Join-Path $WorkDir 'repo'
    $json = & dotnet $bench pipeline $Source $repo $key
    if ($LASTEXITCODE) { throw "pipeline failed on $Source" }
    Remove-Item $repo -Recurse -Force
    $json | ConvertFrom-Json
}

function Measure-Zstd([string] $File) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    & bash -c "zstd -3 -T1 -q -c '$File' > /dev/null"
    if ($LASTEXITCODE) { throw 'zstd failed' }
    $clock.Elapsed.TotalSeconds
}

$bytes = [long]$SizeMB * 1MB
$dump = Join-Path $WorkDir 'dump.sql'
$random = Join-Path $WorkDir 'random.bin'
& dotnet $bench gen-dump $bytes $dump
& bash -c "head -c $bytes /dev/urandom > '$random'"

$rows = foreach ($case in @(@{ Name = "dump text, $SizeMB MiB"; File = $dump }, @{ Name = "incompressible, $SizeMB MiB"; File = $random })) {
    # Warm the page cache so both tools read from memory, then alternate runs.
    $null = Measure-Zstd $case.File
    $zstd = [Math]::Min((Measure-Zstd $case.File), (Measure-Zstd $case.File))
    $ours = @((Invoke-Pipeline $case.File), (Invoke-Pipeline $case.File)) | Sort-Object seconds | Select-Object -First 1
    [pscustomobject]@{
        Input        = $case.Name
        ZstdSeconds  = [Math]::Round($zstd, 2)
        EcomDrSeconds = [Math]::Round($ours.seconds, 2)
        EcomDrMBps   = [Math]::Round($ours.mbPerSecond, 0)
        Ratio        = [Math]::Round($zstd / $ours.seconds, 2)
        StoredPct    = [Math]::Round(100.0 * $ours.storedBytes / $ours.plainBytes, 1)
        PeakMB       = [Math]::Round($ours.peakWorkingSetMB, 0)
    }
}
$memory = foreach ($mb in $SmallMB, $LargeMB) {
    $run = Invoke-Pipeline "gen:$([long]$mb * 1MB)"
    [pscustomobject]@{ ArtifactMB = $mb; Seconds = [Math]::Round($run.seconds, 1); PeakMB = [Math]::Round($run.peakWorkingSetMB, 0) }
}
Remove-Item $WorkDir -Recurse -Force

$cpu = ((Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -split ':', 2)[1].Trim()
$section = @"
<!-- pipeline:begin -->
## Artifact pipeline

``dotnet pwsh ./bench/pipeline.ps1 -SizeMB $SizeMB -SmallMB $SmallMB -LargeMB $LargeMB`` on $(Get-Date -Format 'yyyy-MM-dd'),
$([Environment]::ProcessorCount) cores ($cpu), $(& bash -c "zstd --version | grep -o 'v[0-9.]*'"), .NET $([Environment]::Version).

EcomDr streams the input through zstd level 3 (the system's libzstd, ZstdSharp where there is none), AES-256-GCM framing, SHA-256 of the
plaintext and of the stored bytes, into a file-system store (temp file, fsync, rename). ``zstd -3 -T1``
only compresses to /dev/null. Ratio = zstd seconds / EcomDr seconds (target >= 0.8). Best of two runs,
inputs in the page cache.

| input | zstd -3 -T1 (s) | EcomDr (s) | EcomDr MB/s | ratio | stored / plain | EcomDr peak memory |
|---|---|---|---|---|---|---|
$(($rows | ForEach-Object { "| $($_.Input) | $($_.ZstdSeconds) | $($_.EcomDrSeconds) | $($_.EcomDrMBps) | $($_.Ratio) | $($_.StoredPct) % | $($_.PeakMB) MB |" }) -join "`n")

Peak memory (whole process working set, runtime included) by artifact size, generated dump text:

| artifact | seconds | peak memory |
|---|---|---|
$(($memory | ForEach-Object { "| $($_.ArtifactMB) MiB | $($_.Seconds) | $($_.PeakMB) MB |" }) -join "`n")
<!-- pipeline:end -->
"@
$doc = Join-Path $root 'docs/benchmarks.md'
if (-not (Test-Path $doc)) { Set-Content $doc "# Benchmarks`n`nMeasured by the scripts in ``bench/``, never asserted by tests.`n" }
$text = Get-Content $doc -Raw
$text = if ($text -match '(?s)<!-- pipeline:begin -->.*<!-- pipeline:end -->') { $text -replace '(?s)<!-- pipeline:begin -->.*<!-- pipeline:end -->', $section.Replace('$', '$$') } else { $text.TrimEnd() + "`n`n" + $section + "`n" }
Set-Content $doc $text -NoNewline
$rows | Format-Table -AutoSize
$memory | Format-Table -AutoSize
