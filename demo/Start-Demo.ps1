#requires -Version 7.4
<#
.SYNOPSIS
    The EcomDr demo on embedded defaults: a sandbox MariaDB holding the sample shop, checked by
    Test-DrPrerequisite as a new backup user would meet it. Later stages extend it to backup,
    point-in-time restore and a drill.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [Parameter(Mandatory)] [string] $TestKitFolder,
    [double] $ShopMegabytes = 5
)
$ErrorActionPreference = 'Stop'
$env:ECOMDR_TESTKIT_FOLDER = $TestKitFolder
. (Join-Path $PSScriptRoot '../tests/Pester/TestKit.ps1')

function Write-Title([string] $Text) { Write-Host "`n### $Text" -ForegroundColor Green }

Write-Title 'Starting a sandbox MariaDB 10.11 (binlog on, ROW, GTID) on a free loopback port'
$server = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync())
try {
    Write-Host "sandbox: 127.0.0.1:$($server.Port) (pid $($server.ProcessId), data in $($server.DataDirectory))"

    Write-Title "Generating the sample shop (~$ShopMegabytes MB: customers, products, orders, payments, refunds)"
    $clock = [Diagnostics.Stopwatch]::StartNew()
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($server.RootConnectionString, 'ecommerce',
            [EcomDr.TestKit.Shop.ShopSize]::FromMegabytes($ShopMegabytes), 42, 2))
    $counts = Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::ChecksumsAsync($server.RootConnectionString, 'ecommerce'))
    $counts.GetEnumerator() | ForEach-Object { [pscustomobject]@{ Table = $_.Key; Rows = [long]($_.Value -split ':')[0] } } | Format-Table -AutoSize | Out-Host
    Write-Host ("generated in {0:0.0} s; invariants: {1}" -f $clock.Elapsed.TotalSeconds,
        $(if ((Wait-Task ([EcomDr.TestKit.Shop.ShopInspector]::VerifyInvariantsAsync($server.RootConnectionString, 'ecommerce'))).Count -eq 0) { 'all hold' } else { 'BROKEN' }))

    Import-Module $ModuleManifest
    $password = [Convert]::ToBase64String([Security.Cryptography.RandomNumberGenerator]::GetBytes(18))

    Write-Title 'A backup user created with a forgotten REPLICATION SLAVE grant: Test-DrPrerequisite says what is wrong'
    Wait-Task ($server.CreateUserAsync('ecomdr_backup', $password, [string[]]@('SELECT, RELOAD, LOCK TABLES, REPLICATION CLIENT, SHOW VIEW, EVENT, TRIGGER ON *.*')))
    $credential = [pscredential]::new('ecomdr_backup', (ConvertTo-SecureString $password -AsPlainText -Force))
    $results = Test-DrPrerequisite -Server 127.0.0.1 -Port $server.Port -Credential $credential -SslMode None -Schema ecommerce
    $results | Where-Object Status -ne Pass | Format-List Check, Status, Observed, Remediation | Out-Host

    Write-Title 'After applying the remediation, checked through a configuration file (password from an environment variable)'
    Wait-Task ($server.ExecuteAsync("GRANT REPLICATION SLAVE ON *.* TO 'ecomdr_backup'@'127.0.0.1'", $null))
    $configDir = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-demo-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $configDir | Out-Null
    $env:ECOMDR_DEMO_MYSQL_PASSWORD = $password
    @{
        schemaVersion = 1
        environments  = @{
            sandbox = @{
                mysql        = @{ server = '127.0.0.1'; port = $server.Port; sslMode = 'None'; schemas = @('ecommerce')
                                  credential = @{ user = 'ecomdr_backup'; passwordEnv = 'ECOMDR_DEMO_MYSQL_PASSWORD' } }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'repository' } }
                keys         = @(@{ type = 'localFile'; path = 'keys/sandbox.key' })
                objectives   = @{ rtoMinutes = 60; rpoMinutes = 15 }
                schedules    = @{ binlogShipIntervalMinutes = 5 }
            }
        }
    } | ConvertTo-Json -Depth 6 | Set-Content (Join-Path $configDir 'ecomdr.json')
    $results = Test-DrPrerequisite -Config (Join-Path $configDir 'ecomdr.json')
    $results | Out-String -Width 160 | Out-Host
    Remove-Item $configDir -Recurse -Force
    $failed = @($results | Where-Object Status -eq Fail)
    Write-Title $(if ($failed) { "Demo finished with $($failed.Count) failing check(s)" } else { 'Demo finished: the sandbox is ready for backups and point-in-time recovery' })
    if ($failed) { exit 1 }
}
finally {
    Remove-Item env:ECOMDR_DEMO_MYSQL_PASSWORD -ErrorAction Ignore
    Wait-Task ($server.DisposeAsync().AsTask())
}
