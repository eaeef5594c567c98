# Shared by the bench/ scripts: the test kit (real servers, the sample shop), the bench console, the
# machine description, and writing one marked section of docs/benchmarks.md.
$script:BenchRoot = Split-Path $PSScriptRoot
$script:BenchConsole = Join-Path $BenchRoot 'bench/EcomDr.Bench/bin/Release/net8.0/EcomDr.Bench.dll'
$env:ECOMDR_TESTKIT_FOLDER = Join-Path $BenchRoot 'tests/EcomDr.TestKit/bin/Release/net8.0'
. (Join-Path $BenchRoot 'tests/Pester/TestKit.ps1')

function Initialize-BenchFolder([string] $Path) {
    Remove-Item $Path -Recurse -Force -ErrorAction Ignore
    New-Item -ItemType Directory $Path | Out-Null
}

# Runs the bench console; its last output line is JSON.
function Invoke-Bench([string[]] $Arguments) {
    if (-not (Test-Path $BenchConsole)) { throw 'Run "dotnet pwsh ./build.ps1 build" first.' }
    $json = & dotnet $BenchConsole @Arguments
    if ($LASTEXITCODE) { throw "bench $($Arguments -join ' ') failed" }
    $json | ConvertFrom-Json
}

function Get-BenchMachine {
    $cpu = ((Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -split ':', 2)[1].Trim()
    $maria = & mariadbd --version | Select-String -Pattern '\d+\.\d+\.\d+' | ForEach-Object { $_.Matches[0].Value }
    "$(Get-Date -Format 'yyyy-MM-dd'), $([Environment]::ProcessorCount) cores ($cpu), MariaDB $maria"
}

# Replaces (or appends) the section between <!-- $Name:begin --> and <!-- $Name:end -->.
function Write-BenchSection([string] $Name, [string] $Section) {
    $doc = Join-Path $BenchRoot 'docs/benchmarks.md'
    $text = Get-Content $doc -Raw
    $pattern = "(?s)<!-- ${Name}:begin -->.*<!-- ${Name}:end -->"
    $text = if ($text -match $pattern) { $text -replace $pattern, $Section.Replace('$', '$$') } else { $text.TrimEnd() + "`n`n" + $Section + "`n" }
    Set-Content $doc $text -NoNewline
    Write-Host $Section
}
