# What the drill tests run against. With ECOMDR_DRILL_CONFIG set, a real environment: its config
# (ECOMDR_DRILL_ENVIRONMENT picks the environment) and its own backups, probes and objectives, drills
# into a sandbox on this machine. Without it, a sandbox environment built here: a MariaDB source
# holding the sample shop under a workload, a full backup, the binlog shipped, everything copied to
# an offsite store, and a small app the probes reach, answering from the restored database.
. (Join-Path $PSScriptRoot '../Pester/TestKit.ps1')
Import-Module $env:ECOMDR_MODULE_MANIFEST -Force

function Initialize-DrillEnvironment {
    if ($env:ECOMDR_DRILL_CONFIG) {
        return [pscustomobject]@{ Config = $env:ECOMDR_DRILL_CONFIG; Environment = $env:ECOMDR_DRILL_ENVIRONMENT; Live = $true; Servers = @(); App = $null; Root = $null; ReferencePoint = $null }
    }

    $root = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-drill-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $root | Out-Null
    $server = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync())
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($server.RootConnectionString, 'ecommerce', [EcomDr.TestKit.Shop.ShopSize]::new(300, 40, 1500), 11, 2))
    Wait-Task ($server.CreateUserAsync('drill', 'Dr!ll-pw-1', [string[]]@('ALL PRIVILEGES ON *.*')))
    $app = [EcomDr.TestKit.Shop.ShopApp]::Start()
    $email = [string](Wait-Task ($server.ScalarAsync('SELECT email FROM ecommerce.customers ORDER BY id LIMIT 1', $null)))
    $query = 'host={host}&port={port}&schema={schema}'
    $config = Join-Path $root 'ecomdr.json'
    @{
        schemaVersion = 1
        environments  = @{
            shop = @{
                mysql        = @{ server = '127.0.0.1'; port = $server.Port; sslMode = 'None'; schemas = @('ecommerce'); credential = @{ user = 'drill'; passwordEnv = 'ECOMDR_DRILL_TEST_PW' } }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'primary' }; offsite = @{ type = 'filesystem'; path = 'offsite' } }
                keys         = @(@{ type = 'localFile'; path = 'shop.key' })
                objectives   = @{ rtoMinutes = 60; rpoMinutes = 15 }
                schedules    = @{ binlogShipIntervalMinutes = 5 }
                drill        = @{
                    pitrOffsetMinutes = 0
                    alembicHead       = [EcomDr.TestKit.Shop.ShopSchema]::AlembicRevision
                    probes            = @(
                        @{ name = 'healthz'; url = "$($app.BaseUrl)/healthz?$query"; expectStatus = 200; expectBody = '"status":"ok"' }
                        @{ name = 'login'; url = "$($app.BaseUrl)/api/login?$query"; method = 'POST'; contentType = 'application/json'; body = "{`"email`": `"$email`"}"; expectStatus = 200; expectBody = '"token":"customer-\d+"' }
                        @{ name = 'checkout'; url = "$($app.BaseUrl)/api/checkout?$query&dry_run=1"; method = 'POST'; expectStatus = 200; expectBody = '"ok":true' }
                    )
                }
            }
        }
    } | ConvertTo-Json -Depth 8 | Set-Content $config
    $env:ECOMDR_DRILL_TEST_PW = 'Dr!ll-pw-1'
    $null = New-DrKey -Config $config
    $null = Send-Binlog -Config $config                          # shipping ran before the backup, as it does in production
    $null = Invoke-MySqlFullBackup -Config $config
    $workload = [EcomDr.TestKit.Shop.ShopWorkload]::Start($server.RootConnectionString, 'ecommerce', 2, 100, 12)
    try {
        Start-Sleep -Seconds 2
        $null = Send-Binlog -Config $config -Rotate
        Start-Sleep -Milliseconds 1500
        # The PITR drill's simulated mistake: mid-workload, at the middle of a second. MariaDB records commit
        # times to the second, so what was recorded in the reference's own second is left out and the RPO is
        # 1 s plus the reference's fraction: at .95 or later that rounded to 2.0 and failed "below 2 s".
        $now = [DateTimeOffset]::UtcNow
        $reference = $now.AddTicks(-($now.Ticks % [TimeSpan]::TicksPerSecond)).AddMilliseconds(500)
        if ($reference -gt $now) { $reference = $reference.AddSeconds(-1) }
        Start-Sleep -Milliseconds 1500
    }
    finally { Wait-Task ($workload.StopAsync()) }
    $null = Send-Binlog -Config $config -Rotate
    $null = Get-DrBackup -Config $config | Copy-DrBackup -Config $config -Destination offsite
    [pscustomobject]@{ Config = $config; Environment = 'shop'; Live = $false; Servers = @($server); App = $app; Root = $root; ReferencePoint = $reference }
}

function Remove-DrillEnvironment($Drill) {
    if ($Drill.App) { Wait-Task ($Drill.App.DisposeAsync().AsTask()) }
    foreach ($s in $Drill.Servers) { Wait-Task ($s.DisposeAsync().AsTask()) }
    if ($Drill.Root) { Remove-Item $Drill.Root -Recurse -Force -ErrorAction Ignore }
    Remove-Item env:ECOMDR_DRILL_TEST_PW -ErrorAction Ignore
}

# The checklist every passing drill shows, in order (probes only where configured).
function Get-ExpectedChecks($Drill, [string] $Schema = 'ecommerce') {
    $lines = @('Full backup located', 'Binlog chain continuous', 'Artifacts present', "Full backup restores exactly ($Schema)", 'Artifact integrity', 'Replay', "Restore finished ($Schema)")
    if (-not $Drill.Live) { $lines += "Alembic revision ($Schema)", 'Probe healthz', 'Probe login', 'Probe checkout' }
    $lines + 'RTO within objective', 'RPO within objective'
}
