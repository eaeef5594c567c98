# Every default view of module/EcomDr.Format.ps1xml, rendered at 120 columns the way a console shows
# it, with objects from real runs against a real MariaDB (the drill kit's environment: a shop under a
# workload, a full backup, the binlog shipped). A view fails when a key column is cut or dropped, when
# a line is wider than the console, or when a nested result prints as a C# record.
BeforeAll {
    . (Join-Path $PSScriptRoot '../drills/DrillKit.ps1')
    $script:Drill = Initialize-DrillEnvironment
    $script:Config = $Drill.Config
    # Metrics and the job log as an installation has them.
    $json = Get-Content $Config -Raw | ConvertFrom-Json -AsHashtable
    $json.environments.shop.telemetry = @{ textfile = 'textfile/ecomdr.prom'; jobLog = 'logs/jobs.jsonl' }
    $json.environments.shop.files = @{ infra = @{ kind = 'infra'; paths = @((Join-Path $Drill.Root 'views-files/infra')); exclude = @('**/*.log') } }
    $json | ConvertTo-Json -Depth 8 | Set-Content $Config
    $server = $Drill.Servers[0]
    $target = @{ TargetServer = '127.0.0.1'; TargetPort = $server.Port; TargetCredential = (New-TestCredential 'drill' 'Dr!ll-pw-1'); TargetSslMode = 'None' }
    $live = @{ Server = '127.0.0.1'; Port = $server.Port; Credential = (New-TestCredential 'drill' 'Dr!ll-pw-1'); SslMode = 'None' }

    $full = Get-DrBackup mysql-full -Config $Config -Latest
    $script:Samples = [ordered]@{}
    $Samples['KeyInfo'] = New-DrKey -Path (Join-Path $Drill.Root 'keys/another.key')
    $Samples['PrerequisiteResult'] = Test-DrPrerequisite -Config $Config
    $Samples['BackupInfo'] = Get-DrBackup -Config $Config
    $Samples['IntegrityReport'] = Test-BackupIntegrity -Config $Config -Id $full.Id -Deep
    $Samples['BinlogSegment'] = Get-BinlogChain -Config $Config
    $Samples['BinlogChainReport'] = $full | Test-BinlogChain -Config $Config
    $Samples['RpoStatus'] = Get-DrRpoStatus -Config $Config -CheckServer
    $Samples['AssembledBinlog'] = Get-BinlogChain -Config $Config | Expand-DrBinlog (Join-Path $Drill.Root 'binlogs') -Config $Config -WarningAction SilentlyContinue
    $Samples['FoundBinlogEvent'] = Find-BinlogEvent -Config $Config -Schema ecommerce | Select-Object -Last 20
    $Samples['RestoreResult'] = Restore-MySqlDatabase -Config $Config -Id $full.Id -TargetSchema ecommerce_copy @target -Force
    $Samples['PitrResult'] = Restore-MySqlPitr -Config $Config -StopBeforeEvent ($Samples['FoundBinlogEvent'] | Select-Object -Last 1) -TargetSchema ecommerce_pitr @target -Force
    $Samples['ValidationReport'] = Test-MySqlRestore ecommerce_pitr -Config $Config -ReferenceSchema ecommerce_copy @live -WarningAction SilentlyContinue
    $Samples['SchemaSwapResult'] = Switch-MySqlSchema -From ecommerce_copy -To ecommerce_pitr -Config $Config @live -Force -InformationAction SilentlyContinue
    $Samples['DrillReport'] = Start-DrDrill Pitr -Sandbox -Config $Config
    $Samples['RtoEstimate'] = Get-DrRtoEstimate -Config $Config
    $Samples['MetricValue'] = Get-DrMetric -Config $Config
    $Samples['JobLogReport'] = Test-DrJobLog -Config $Config
    $inventory = Get-DrInventory -Config $Config
    $Samples['InventoryItem'] = @($inventory | Where-Object { $_.GetType().Name -eq 'InventoryItem' })
    $Samples['RecoverableWindow'] = @($inventory | Where-Object { $_.GetType().Name -eq 'RecoverableWindow' })
    $Samples['BinlogPurgeFile'] = Invoke-BinlogPurge -Config $Config -MarginHours 0 -WhatIf 6>$null
    $Samples['BackupHold'] = Set-DrBackupHold -Config $Config -Id $full.Id -Reason 'OPS-1234 forensic copy of the incident'
    $Samples['KeyRewrapResult'] = Update-DrKey -Config $Config -Check
    $retention = Invoke-DrRetention -Config $Config -WhatIf 6>$null
    $Samples['RetentionDecision'] = @($retention | Where-Object { $_.GetType().Name -eq 'RetentionDecision' })
    $Samples['RetentionSummary'] = @($retention | Where-Object { $_.GetType().Name -eq 'RetentionSummary' })
    # Secrets, from the test kit's Vault stand-ins (no Vault server runs here).
    $script:Vaults = @([EcomDr.TestKit.Servers.VaultStandIn]::Start(), [EcomDr.TestKit.Servers.VaultStandIn]::Start())
    foreach ($path in 'shop/payments/stripe-webhook-signing', 'shop/app/session', 'infra/grafana/admin') {
        $data = [System.Collections.Generic.Dictionary[string, string]]::new()
        $data['value'] = "views-$([guid]::NewGuid().ToString('N'))"
        $null = $Vaults[0].Put('secret', $path, $data)
    }
    $env:VAULT_TOKEN = [EcomDr.TestKit.Servers.VaultStandIn]::Token
    $Samples['SecretBackupResult'] = Backup-VaultSecret secret -VaultAddress $Vaults[0].Address -Config $Config
    $Samples['VaultSecretChange'] = Restore-VaultSecret -VaultAddress $Vaults[1].Address -Config $Config -WhatIf 6>$null
    Remove-Item env:VAULT_TOKEN

    # Redis, from the test kit's redis-server: a snapshot, its keys, and a load into a second one.
    $script:Redis = @(1, 2 | ForEach-Object { [EcomDr.TestKit.Servers.RedisServer]::StartAsync($null).GetAwaiter().GetResult() })
    'SET cart:1 items=3', 'RPUSH queue:emails a b c', 'SET session:1 token EX 3600', 'XADD orders * order 1' | & redis-cli -p $Redis[0].Port | Out-Null
    $snapshot = Backup-RedisSnapshot 127.0.0.1 -Port $Redis[0].Port -Config $Config
    $Samples['RdbKey'] = @($snapshot | Get-RedisSnapshotKey -Config $Config)
    $Samples['RedisRestoreResult'] = $snapshot | Restore-RedisSnapshot -TargetServer 127.0.0.1 -TargetPort $Redis[1].Port -Config $Config -Force

    # Files: an infra folder backed up and restored.
    $files = New-Item -ItemType Directory (Join-Path $Drill.Root 'views-files/infra/nginx') -Force
    Set-Content (Join-Path $files 'nginx.conf') 'worker_processes auto;'
    Set-Content (Join-Path $files 'shop.conf') 'server { listen 443 ssl; }'
    $Samples['FileSetConfig'] = Get-DrFileSet -Config $Config
    $fileBackup = Backup-DrFile -Set infra -Config $Config
    $Samples['FileRestoreItem'] = @($fileBackup | Restore-DrFile -Destination (Join-Path $Drill.Root 'views-restored') -Config $Config)

    # A restore plan approved by a reviewer's key.
    $planFile = Join-Path $Drill.Root 'views-plan.json'
    $null = Restore-MySqlDatabase $full.Id -Config $Config -TargetSchema ecommerce_planned @target -PlanOnly -Path $planFile
    $reviewer = New-DrKey -Approver -Name 'views-reviewer' -Path (Join-Path $Drill.Root 'keys/views-reviewer.key')
    $Samples['RestoreApproval'] = Approve-DrRestorePlan $planFile -KeyFile $reviewer.Path -Confirm:$false

    # Grafana, from the test kit's stand-ins (no Grafana runs here): an export, then a load into a second one.
    $script:Grafanas = @([EcomDr.TestKit.Servers.GrafanaStandIn]::Start(), [EcomDr.TestKit.Servers.GrafanaStandIn]::Start())
    $Grafanas[0].AddFolder('ops', 'Operations')
    $Grafanas[0].AddDashboard([System.Text.Json.Nodes.JsonNode]::Parse('{"uid":"backups-dr","title":"Backups & DR","panels":[{"id":1,"type":"stat"}]}').AsObject(), 'ops')
    $env:ECOMDR_VIEWS_GRAFANA_TOKEN = [EcomDr.TestKit.Servers.GrafanaStandIn]::Token
    $grafanaBackup = Export-GrafanaConfig $Grafanas[0].Endpoint -TokenEnv ECOMDR_VIEWS_GRAFANA_TOKEN -Config $Config
    $Samples['GrafanaChange'] = @($grafanaBackup | Restore-GrafanaConfig -GrafanaUrl $Grafanas[1].Endpoint -TokenEnv ECOMDR_VIEWS_GRAFANA_TOKEN -Config $Config)
    Remove-Item env:ECOMDR_VIEWS_GRAFANA_TOKEN

    # The values a reader scans for: they must show whole in the default view.
    $script:KeyValues = @{
        KeyInfo            = { param($o) $o.KeyId }
        PrerequisiteResult = { param($o) $o.Check, "$($o.Status)" }
        BackupInfo         = { param($o) $o.Id, $o.Kind, $o.Coordinates, "$($o.Status)" }
        IntegrityReport    = { param($o) $o.BackupId, $o.Store, "$($o.Status)" }
        BinlogSegment      = { param($o) $o.File, "$($o.StartOffset)", "$($o.EndOffset)", $o.LastGtid }
        BinlogChainReport  = { param($o) $o.Status, $o.ShippedTo }
        RpoStatus          = { param($o) $o.Environment, $o.ShippedTo, $o.ServerPosition }
        AssembledBinlog    = { param($o) $o.File, "$($o.Bytes)" }
        FoundBinlogEvent   = { param($o) $o.Gtid, "$($o.File):$($o.Position)", "$($o.Operation)", $(if ($null -ne $o.Rows) { "$($o.Rows)" }) }
        RestoreResult      = { param($o) $o.BackupId, $o.Target }
        PitrResult         = { param($o) $o.StoppedBecause, $o.LastGtid, $o.LastPosition, $o.BackupId }
        ValidationReport   = { param($o) $o.Schema, $o.Reference }
        SchemaSwapResult   = { param($o) $o.From, $o.To, $o.PreviousSchema, $o.SwapBack }
        DrillReport        = { param($o) "$($o.Kind)", $o.Store, $o.Verdict }
        MetricValue        = { param($o) $o.Name, $o.Job, $o.Store }
        JobLogReport       = { param($o) $o.Path, $o.LastHash }
        BackupHold         = { param($o) $o.Id, $o.Store }
        BinlogPurgeFile    = { param($o) $o.Decision, $o.File, $o.Server }
        InventoryItem      = { param($o) $o.Kind, $o.Id, $o.Where }
        RecoverableWindow  = { param($o) $o.Store, $o.BaseBackupId }
        RetentionDecision  = { param($o) $o.Decision, $o.Kind, $o.Id }
        RetentionSummary   = { param($o) $o.Environment, $o.Store }
        KeyRewrapResult    = { param($o) $o.Store, "$($o.Manifests)", $o.Versions }
        FileRestoreItem    = { param($o) $o.Name, $o.Action }
        FileSetConfig      = { param($o) $o.Name, $o.Kind, '7d' }
        RestoreApproval    = { param($o) $o.Approver, $o.KeyId }
        GrafanaChange      = { param($o) $o.Action, $o.Kind, $o.Name }
        RdbKey             = { param($o) $o.KeyText, $o.Type, $o.Encoding }
        RtoEstimate        = { param($o) $o.BackupId, $o.BasedOnDrill, $o.Verdict }
        RedisRestoreResult = { param($o) $o.BackupId, $o.Target, "$($o.Restored)" }
        SecretBackupResult = { param($o) $o.Backup.Id, $o.Backup.Store }
        VaultSecretChange  = { param($o) "$($o.Change)", $o.FullPath }
    }

    function Show([object[]] $Objects, [string] $Format) {
        $text = if ($Format -eq 'List') { $Objects | Format-List | Out-String -Width 120 } else { $Objects | Out-String -Width 120 }
        $text -replace "`e\[[0-9;]*m", ''
    }
}

AfterAll {
    foreach ($vault in $Vaults) { if ($vault) { $null = $vault.DisposeAsync().AsTask().GetAwaiter().GetResult() } }
    foreach ($server in $Redis) { if ($server) { $null = $server.DisposeAsync().AsTask().GetAwaiter().GetResult() } }
    foreach ($grafana in $Grafanas) { if ($grafana) { $null = $grafana.DisposeAsync().AsTask().GetAwaiter().GetResult() } }
    Remove-DrillEnvironment $Drill
}

Describe 'Format views at 120 columns' {
    It 'has a real sample for every view the module defines' {
        [xml] $views = Get-Content (Join-Path (Split-Path $env:ECOMDR_MODULE_MANIFEST) 'EcomDr.Format.ps1xml')
        $names = $views.Configuration.ViewDefinitions.View.ViewSelectedBy.TypeName | ForEach-Object { $_.Split('.')[-1] } | Sort-Object -Unique
        @($Samples.Keys | Sort-Object) | Should -Be @($names)
        foreach ($name in $Samples.Keys) {
            @($Samples[$name]).Count | Should -BeGreaterThan 0 -Because "$name needs objects to render"
            @($Samples[$name])[0].GetType().Name | Should -Be $name
        }
    }

    It 'shows <_> whole in its default view, within 120 columns, with no record syntax' -ForEach @(
        'KeyInfo', 'PrerequisiteResult', 'BackupInfo', 'IntegrityReport', 'BinlogSegment', 'BinlogChainReport', 'RpoStatus', 'AssembledBinlog',
        'FoundBinlogEvent', 'RestoreResult', 'PitrResult', 'ValidationReport', 'SchemaSwapResult', 'DrillReport', 'MetricValue', 'JobLogReport',
        'BackupHold', 'RetentionDecision', 'RetentionSummary', 'BinlogPurgeFile', 'InventoryItem', 'RecoverableWindow', 'KeyRewrapResult',
        'RdbKey', 'RedisRestoreResult', 'RtoEstimate'
    ) {
        $objects = @($Samples[$_])
        $text = Show $objects 'Default'
        foreach ($line in $text -split "`n") { $line.TrimEnd().Length | Should -BeLessOrEqual 120 -Because "'$line' must fit the console" }
        $text | Should -Not -Match '\w+ \{ \w+ = ' -Because 'nested results print as text, not as C# records'
        foreach ($o in $objects) {
            foreach ($value in (& $KeyValues[$_] $o | Where-Object { $_ })) {
                $text | Should -Match ([regex]::Escape($value)) -Because "the default view of $_ shows '$value' whole"
            }
        }
    }

    It 'details <_> in Format-List with no record syntax and every key value' -ForEach @(
        'KeyInfo', 'PrerequisiteResult', 'BackupInfo', 'IntegrityReport', 'BinlogSegment', 'BinlogChainReport', 'RpoStatus', 'AssembledBinlog',
        'FoundBinlogEvent', 'RestoreResult', 'PitrResult', 'ValidationReport', 'SchemaSwapResult', 'DrillReport', 'MetricValue', 'JobLogReport',
        'BackupHold', 'RetentionDecision', 'RetentionSummary', 'BinlogPurgeFile', 'InventoryItem', 'RecoverableWindow', 'KeyRewrapResult',
        'RdbKey', 'RedisRestoreResult', 'RtoEstimate'
    ) {
        $objects = @($Samples[$_])
        $text = Show $objects 'List'
        $text | Should -Not -Match '\w+ \{ \w+ = ' -Because 'nested results print as text, not as C# records'
        foreach ($o in $objects) {
            foreach ($value in (& $KeyValues[$_] $o | Where-Object { $_ })) {
                $text | Should -Match ([regex]::Escape($value)) -Because "Format-List of $_ shows '$value'"
            }
        }
    }
}
