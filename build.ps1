<#
.SYNOPSIS
    Builds, documents, packages, tests and demonstrates EcomDr. No build tool beyond pwsh and dotnet.
.DESCRIPTION
    Tasks (several may be given; each runs what it depends on once):
      bootstrap  make the machine ready: MariaDB, Redis, zstd, Prometheus and its Pushgateway, Node.js/npm (apt-get, as root) and s3rver (npm, into .tools/)
      build      dotnet build of the solution (warnings are errors)
      docs       docs/help/*.md -> en-US/EcomDr.dll-help.xml (MAML) in the staged module
      package    out/EcomDr/<version>/ (loads with only pwsh present) and out/EcomDr.zip (Azure Automation layout)
      test       xunit + Pester against the packaged module; last line: "total: N passed, N failed, N skipped"
      demo       prerequisite check of a sandbox MariaDB holding the sample shop
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 test
#>
#requires -Version 7.4
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('bootstrap', 'build', 'docs', 'package', 'test', 'demo', 'clean')]
    [string[]] $Task = @('build'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$Tools = Join-Path $Root '.tools'
$S3rverVersion = '3.7.1'
$script:Done = @{}

function Write-Step([string] $Text) { Write-Host "==> $Text" -ForegroundColor Cyan }

function Get-ModuleVersion {
    (Import-PowerShellDataFile (Join-Path $Root 'EcomDr.psd1')).ModuleVersion
}

function Invoke-Native([string] $File, [string[]] $Arguments) {
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

# Runs a script in a fresh pwsh so assemblies it loads (the module, Pester) do not stay in this session.
function Invoke-ChildPwsh([string] $ScriptPath, [hashtable] $Parameters = @{}) {
    $arguments = @('pwsh', '-NoProfile', '-NonInteractive', '-File', $ScriptPath)
    foreach ($key in $Parameters.Keys) { $arguments += "-$key"; $arguments += [string]$Parameters[$key] }
    Push-Location $Root
    try { & dotnet @arguments | Out-Host; return $LASTEXITCODE } finally { Pop-Location }
}

function Invoke-Task([string] $Name) {
    if ($script:Done[$Name]) { return }
    & "Task-$Name"
    $script:Done[$Name] = $true
}

function Task-bootstrap {
    Write-Step 'bootstrap: checking servers and tools used by tests and the demo'
    $needed = [ordered]@{
        'mariadbd'           = 'mariadb-server'
        'mariadb-install-db' = 'mariadb-server'
        'mariadb'            = 'mariadb-client'
        'redis-server'       = 'redis-server'
        'node'               = 'nodejs'
        'npm'                = 'npm'
        'zstd'               = 'zstd'    # the stock tool (tests read artifacts with it) and libzstd1
        'prometheus'             = 'prometheus'               # scrapes the Pushgateway in the metrics tests; promtool tests the alert rules
        'prometheus-pushgateway' = 'prometheus-pushgateway'
    }
    # Debian keeps mariadbd in /usr/sbin, which a non-login root shell may not have on PATH.
    foreach ($dir in '/usr/sbin', '/usr/local/sbin') {
        if ((Test-Path $dir) -and ($env:PATH -split [IO.Path]::PathSeparator) -notcontains $dir) {
            $env:PATH = "$env:PATH$([IO.Path]::PathSeparator)$dir"
        }
    }
    $missing = @($needed.Keys | Where-Object { -not (Get-Command $_ -CommandType Application -ErrorAction Ignore) } |
        ForEach-Object { $needed[$_] } | Select-Object -Unique)
    if ($missing.Count -gt 0) {
        $aptCommand = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $($missing -join ' ')"
        $isRoot = $IsLinux -and ((& id -u) -eq '0')
        if ($isRoot -and (Get-Command apt-get -ErrorAction Ignore)) {
            Write-Step "installing $($missing -join ', ')"
            $env:DEBIAN_FRONTEND = 'noninteractive'
            Invoke-Native 'apt-get' @('update', '-qq')
            Invoke-Native 'apt-get' (@('install', '-y', '-qq', '--no-install-recommends') + $missing)
        }
        else {
            throw "Missing packages: $($missing -join ', '). Install them (as root on Debian/Ubuntu) with:`n  $aptCommand`nthen run this command again."
        }
    }

    $s3rver = Join-Path $Tools 'node_modules/s3rver/bin/s3rver.js'
    $installed = Join-Path $Tools 'node_modules/s3rver/package.json'
    if (-not (Test-Path $s3rver) -or (Get-Content $installed -Raw | ConvertFrom-Json).version -ne $S3rverVersion) {
        Write-Step "installing s3rver@$S3rverVersion into .tools/"
        Invoke-Native 'npm' @('install', '--prefix', $Tools, '--no-audit', '--no-fund', '--loglevel=error', "s3rver@$S3rverVersion")
    }
    $env:ECOMDR_S3RVER = $s3rver
}

function Task-build {
    Write-Step "build ($Configuration)"
    $propsVersion = ([xml](Get-Content (Join-Path $Root 'Directory.Build.props'))).Project.PropertyGroup.Version
    if ($propsVersion -ne (Get-ModuleVersion)) {
        throw "Version mismatch: Directory.Build.props says $propsVersion, EcomDr.psd1 says $(Get-ModuleVersion)."
    }
    Invoke-Native 'dotnet' @('build', (Join-Path $Root 'EcomDr.sln'), '-c', $Configuration, '--nologo', '-v', 'quiet', '-clp:ErrorsOnly')
}

function Get-StagedModule { Join-Path $Out "EcomDr/$(Get-ModuleVersion)" }

# Lays out the module: EcomDr.dll beside the manifest; the engine and every third-party assembly in
# Dependencies/, where only the module's own load context looks.
function Task-stage {
    Invoke-Task build
    $stage = Get-StagedModule
    $publish = Join-Path $Out 'publish'
    Write-Step "stage module -> $stage"
    Remove-Item $stage, $publish -Recurse -Force -ErrorAction Ignore
    Invoke-Native 'dotnet' @('publish', (Join-Path $Root 'src/EcomDr/EcomDr.csproj'), '-c', $Configuration, '--no-build', '-o', $publish, '--nologo', '-v', 'quiet')
    $deps = New-Item -ItemType Directory -Force (Join-Path $stage 'Dependencies')
    Copy-Item (Join-Path $publish 'EcomDr.dll') $stage
    Get-ChildItem $publish -Filter *.dll | Where-Object Name -ne 'EcomDr.dll' | Copy-Item -Destination $deps
    if (Test-Path (Join-Path $stage 'Dependencies/System.Management.Automation.dll')) {
        throw 'System.Management.Automation.dll must not ship with the module (pwsh provides it).'
    }
    Copy-Item (Join-Path $Root 'EcomDr.psd1') $stage
    Copy-Item (Join-Path $Root 'module/*.Format.ps1xml') $stage
    if (Test-Path (Join-Path $Root 'module/Runbooks')) { Copy-Item (Join-Path $Root 'module/Runbooks') $stage -Recurse }
    if (Test-Path (Join-Path $Root 'module/monitoring')) { Copy-Item (Join-Path $Root 'module/monitoring') $stage -Recurse }
}

function Task-docs {
    Invoke-Task stage
    $stage = Get-StagedModule
    Write-Step 'docs: docs/help/*.md -> en-US/EcomDr.dll-help.xml'
    $code = Invoke-ChildPwsh (Join-Path $Root 'build/ConvertTo-MamlHelp.ps1') @{
        ModuleManifest = Join-Path $stage 'EcomDr.psd1'
        HelpFolder     = Join-Path $Root 'docs/help'
        OutputPath     = Join-Path $stage 'en-US/EcomDr.dll-help.xml'
    }
    if ($code -ne 0) { throw 'Help conversion failed (see above).' }
}

function Task-package {
    Invoke-Task docs
    $zip = Join-Path $Out 'EcomDr.zip'
    Write-Step "package -> $zip"
    # Azure Automation wants a zip named after the module whose top folder is the module.
    $zipRoot = Join-Path $Out 'zip'
    Remove-Item $zipRoot, $zip -Recurse -Force -ErrorAction Ignore
    Copy-Item (Get-StagedModule) (Join-Path $zipRoot 'EcomDr') -Recurse
    Compress-Archive -Path (Join-Path $zipRoot 'EcomDr') -DestinationPath $zip
    Remove-Item $zipRoot -Recurse -Force
}

function Get-NuGetPackagesFolder {
    if ($env:NUGET_PACKAGES) { return $env:NUGET_PACKAGES }
    $line = & dotnet nuget locals global-packages --list
    return ($line -replace '^global-packages:\s*', '').Trim()
}

function Read-TrxCounts([string] $Path) {
    $ns = @{ t = 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010' }
    $counters = (Select-Xml -Path $Path -XPath '//t:ResultSummary/t:Counters' -Namespace $ns).Node
    [pscustomobject]@{
        Passed  = [int]$counters.passed
        Failed  = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        # Skipped tests are counted in total but not in executed (notExecuted stays 0 for them).
        Skipped = [int]$counters.total - [int]$counters.executed
    }
}

function Task-test {
    Invoke-Task bootstrap
    Invoke-Task package
    $results = Join-Path $Out 'test-results'
    Remove-Item $results -Recurse -Force -ErrorAction Ignore
    New-Item -ItemType Directory $results | Out-Null

    Write-Step 'test: xunit (engine and test kit, against real MariaDB/Redis/s3rver)'
    & dotnet test (Join-Path $Root 'tests/EcomDr.Engine.Tests/EcomDr.Engine.Tests.csproj') -c $Configuration --no-build --nologo `
        --logger 'trx;LogFileName=engine.trx' --logger 'console;verbosity=normal' --results-directory $results
    $xunitExit = $LASTEXITCODE
    $trx = Join-Path $results 'engine.trx'
    $xunit = if (Test-Path $trx) { Read-TrxCounts $trx } else { [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    if ($xunitExit -ne 0 -and $xunit.Failed -eq 0) { $xunit.Failed = 1 }

    Write-Step 'test: Pester (the packaged module)'
    Invoke-Native 'dotnet' @('restore', (Join-Path $Root 'tests/tools/TestTools.csproj'), '--nologo', '-v', 'quiet')
    $packages = Get-NuGetPackagesFolder
    $pesterJson = Join-Path $results 'pester.json'
    $code = Invoke-ChildPwsh (Join-Path $Root 'tests/Invoke-PesterRun.ps1') @{
        ModuleManifest = Join-Path (Get-StagedModule) 'EcomDr.psd1'
        PesterManifest = Join-Path $packages 'pester/5.7.1/tools/Pester.psd1'
        TestKitFolder  = Join-Path $Root "tests/EcomDr.TestKit/bin/$Configuration/net8.0"
        PackagesFolder = $packages
        ResultPath     = $pesterJson
    }
    $pester = if (Test-Path $pesterJson) { Get-Content $pesterJson -Raw | ConvertFrom-Json } else { $null }
    # Counts that are missing or not numbers mean the run did not finish: a failure, never a pass.
    $counted = $null -ne $pester -and ($pester.Passed -is [long] -or $pester.Passed -is [int]) -and ($pester.Failed -is [long] -or $pester.Failed -is [int])
    if (-not $counted) {
        $pester = [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 }
    }
    if ($code -ne 0 -and $pester.Failed -eq 0) { $pester.Failed = 1 }

    $passed = $xunit.Passed + $pester.Passed
    $failed = $xunit.Failed + $pester.Failed
    $skipped = $xunit.Skipped + $pester.Skipped
    Write-Host "xunit: $($xunit.Passed) passed, $($xunit.Failed) failed, $($xunit.Skipped) skipped"
    Write-Host "pester: $($pester.Passed) passed, $($pester.Failed) failed, $($pester.Skipped) skipped"
    Write-Host "total: $passed passed, $failed failed, $skipped skipped"
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

function Task-demo {
    Invoke-Task bootstrap
    Invoke-Task package
    $code = Invoke-ChildPwsh (Join-Path $Root 'demo/Start-Demo.ps1') @{
        ModuleManifest = Join-Path (Get-StagedModule) 'EcomDr.psd1'
        TestKitFolder  = Join-Path $Root "tests/EcomDr.TestKit/bin/$Configuration/net8.0"
    }
    if ($code -ne 0) { exit $code }
}

function Task-clean {
    Write-Step 'clean'
    Remove-Item $Out -Recurse -Force -ErrorAction Ignore
    Get-ChildItem $Root -Directory -Recurse -Include bin, obj | Where-Object FullName -notlike "$Tools*" | Remove-Item -Recurse -Force
}

foreach ($name in $Task) { Invoke-Task $name }
