# Job metrics for real: every job cmdlet records its outcome in a node_exporter textfile and a real
# Pushgateway, and a real Prometheus scraping that Pushgateway has the series with the right labels
# and values (queried through its HTTP API). A failed job is recorded too; a dead sink fails nothing.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestKit.ps1')
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Server = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync())
    Wait-Task ([EcomDr.TestKit.Shop.ShopGenerator]::CreateAsync($Server.RootConnectionString, 'ecommerce', [EcomDr.TestKit.Shop.ShopSize]::new(100, 20, 500), 15, 2))
    Wait-Task ($Server.CreateUserAsync('metrics', 'Me@-pw-5', [string[]]@('ALL PRIVILEGES ON *.*')))
    $script:Gateway = Wait-Task ([EcomDr.TestKit.Servers.PushgatewayServer]::StartAsync())
    $script:Prometheus = Wait-Task ([EcomDr.TestKit.Servers.PrometheusServer]::StartAsync([string[]]@("127.0.0.1:$($Gateway.Port)")))
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-pester-metrics-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Root | Out-Null
    $script:Config = Join-Path $Root 'ecomdr.json'
    $script:Textfile = Join-Path $Root 'textfile/ecomdr.prom'
    @{
        schemaVersion = 1
        environments  = @{
            prod = @{
                mysql        = @{ server = '127.0.0.1'; port = $Server.Port; sslMode = 'None'; schemas = @('ecommerce'); credential = @{ user = 'metrics'; passwordEnv = 'ECOMDR_METRICS_PW' } }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'primary' }; offsite = @{ type = 'filesystem'; path = 'offsite' } }
                keys         = @(@{ type = 'localFile'; path = 'prod.key' })
                telemetry    = @{ textfile = 'textfile/ecomdr.prom'; pushgatewayUrl = $Gateway.Url; jobLog = 'logs/jobs.jsonl' }
                drill        = @{ pitrOffsetMinutes = 0 }
            }
        }
    } | ConvertTo-Json -Depth 6 | Set-Content $Config
    $env:ECOMDR_METRICS_PW = 'Me@-pw-5'
    $null = New-DrKey -Config $Config
    function Get-Sample([string] $Name, [string] $Job, [string] $Store = 'primary') {
        $line = Get-Content $Textfile | Where-Object { $_ -like "$Name{*job=`"$Job`"*store=`"$Store`"}*" }
        @($line).Count | Should -Be 1 -Because "$Name of $Job in $Store is one series"
        [double]($line -split ' ')[-1]
    }
    # The query's series once it has some (and, with -Until, once every value satisfies it).
    function Get-Prometheus([string] $Query, [scriptblock] $Until) {
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        do {
            $result = @(Wait-Task ($Prometheus.WaitForAsync($Query, $null, 30)))
            if (-not $Until -or @($result | Where-Object { -not (& $Until $_.Value) }).Count -eq 0) { return $result }
            Start-Sleep -Milliseconds 250
        } while ([DateTime]::UtcNow -lt $deadline)
        throw "Prometheus never satisfied $Until for $Query (last: $($result.Value -join ', '))"
    }
}

AfterAll {
    Remove-Item env:ECOMDR_METRICS_PW, env:ECOMDR_PUSHGATEWAY_URL -ErrorAction Ignore
    foreach ($s in $Prometheus, $Gateway, $Server) { if ($s) { Wait-Task ($s.DisposeAsync().AsTask()) } }
    Remove-Item $Root -Recurse -Force -ErrorAction Ignore
}

Describe 'Job metrics' {
    It 'a full backup, a shipping pass, a deep integrity test and an offsite copy each record their outcome in the textfile' {
        $script:Full = Invoke-MySqlFullBackup -Config $Config
        $script:Segments = @(Send-Binlog -Config $Config)
        $null = Test-BackupIntegrity $Full.Id -Config $Config -Deep
        $null = Copy-DrBackup $Full.Id -Config $Config -Destination offsite
        Get-Sample ecomdr_job_success full-backup | Should -Be 1
        Get-Sample ecomdr_job_bytes_stored full-backup | Should -Be $Full.Size
        Get-Sample ecomdr_job_artifacts full-backup | Should -Be $Full.ArtifactCount
        $script:FirstSuccess = Get-Sample ecomdr_job_last_success_timestamp_seconds full-backup
        $FirstSuccess | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddMinutes(-2).ToUnixTimeSeconds())
        Get-Sample ecomdr_job_bytes_stored binlog-shipping | Should -Be ($Segments | Measure-Object StoredBytes -Sum).Sum
        Get-Sample ecomdr_binlog_last_shipped_event_timestamp_seconds binlog-shipping | Should -Be $Segments[-1].LastEventTime.ToUnixTimeSeconds()
        Get-Sample ecomdr_rpo_exposure_seconds binlog-shipping | Should -Be 0
        Get-Sample ecomdr_integrity_failed_artifacts integrity-test | Should -Be 0
        Get-Sample ecomdr_job_success offsite-copy offsite | Should -Be 1
        Get-Sample ecomdr_job_bytes_stored offsite-copy offsite | Should -Be $Full.Size
        @(Get-ChildItem (Split-Path $Textfile) -Force).Name | Should -Be @('ecomdr.prom') -Because 'written atomically, nothing left beside it'
    }

    It 'arrive in a real Prometheus through the Pushgateway with their labels and values' {
        $bytes = @(Get-Prometheus 'ecomdr_job_bytes_stored{job="full-backup"}')
        $bytes.Count | Should -Be 1
        $bytes[0].Value | Should -Be $Full.Size
        $bytes[0].Labels['environment'] | Should -Be 'prod'
        $bytes[0].Labels['kind'] | Should -Be 'mysql-full'
        $bytes[0].Labels['store'] | Should -Be 'primary'
        (Get-Prometheus 'ecomdr_job_success{job="offsite-copy",store="offsite",kind="mysql-full"}')[0].Value | Should -Be 1
        (Get-Prometheus 'time() - ecomdr_binlog_last_shipped_event_timestamp_seconds')[0].Value | Should -BeLessThan 600
    }

    It 'a failed job records the failure and keeps the last success, in the textfile and in Prometheus' {
        $bad = New-TestCredential 'metrics' 'wrong-password'
        { Invoke-MySqlFullBackup -Config $Config -Credential $bad } | Should -Throw -ErrorId 'EcomDr.AuthenticationFailed,*'
        Get-Sample ecomdr_job_success full-backup | Should -Be 0
        Get-Sample ecomdr_job_last_success_timestamp_seconds full-backup | Should -Be $FirstSuccess
        Get-Sample ecomdr_job_last_attempt_timestamp_seconds full-backup | Should -BeGreaterThan $FirstSuccess
        (Get-Prometheus 'ecomdr_job_success{job="full-backup"}' { param($v) $v -eq 0 })[0].Value | Should -Be 0
        (Get-Prometheus 'ecomdr_job_last_success_timestamp_seconds{job="full-backup"}')[0].Value | Should -Be $FirstSuccess
    }

    It 'a drill records its RTO, RPO and verdict' {
        Start-Sleep -Milliseconds 1100   # binlog times are whole seconds: the drill's point must follow the backup
        Wait-Task ($Server.ExecuteAsync('UPDATE ecommerce.inventory SET received = received + 1, on_hand = on_hand + 1 WHERE product_id = 1', $null))
        $shipped = @(Send-Binlog -Config $Config)
        $report = Start-DrDrill Pitr -Sandbox -Config $Config -ReferencePoint $shipped[-1].LastEventTime
        $report.Passed | Should -BeTrue -Because (($report.Failures | ForEach-Object { "$($_.Name): $($_.Evidence)" }) -join '; ')
        Get-Sample ecomdr_drill_passed drill | Should -Be ([int]$report.Passed)
        Get-Sample ecomdr_drill_rto_seconds drill | Should -Be $report.RtoSeconds
        Get-Sample ecomdr_drill_rpo_objective_seconds drill | Should -Be 900
        $rto = $report.RtoSeconds
        (Get-Prometheus 'ecomdr_drill_rto_seconds{kind="Pitr"}' { param($v) $v -eq $rto })[0].Value | Should -Be $rto
    }

    It 'Get-DrMetric shows the current values, timestamps as times' {
        $metrics = @(Get-DrMetric -Config $Config -Job full-backup)
        ($metrics | Where-Object Name -eq 'ecomdr_job_bytes_stored').Value | Should -Be $Full.Size
        ($metrics | Where-Object Name -eq 'ecomdr_job_last_success_timestamp_seconds').Time.ToUnixTimeMilliseconds() | Should -Be ([long]($FirstSuccess * 1000))
        @(Get-DrMetric 'ecomdr_drill_*' -Config $Config).Count | Should -BeGreaterOrEqual 4
    }

    It '-PushgatewayUrl sends one job to another Pushgateway than the configured one' {
        $other = Wait-Task ([EcomDr.TestKit.Servers.PushgatewayServer]::StartAsync())
        try {
            $null = Test-BackupIntegrity $Full.Id -Config $Config -PushgatewayUrl $other.Url
            $pushed = (Invoke-WebRequest "$($other.Url)metrics").Content -split "`n" | Where-Object { $_ -like 'ecomdr_job_success{*' }
            @($pushed).Count | Should -Be 1
            $pushed | Should -Match 'job="integrity-test"'
            $pushed | Should -Match '\} 1$'
        }
        finally { Wait-Task ($other.DisposeAsync().AsTask()) }
    }

    It 'a dead Pushgateway fails no job: the job succeeds with a warning' {
        $env:ECOMDR_PUSHGATEWAY_URL = 'http://127.0.0.1:1/'
        try {
            $backup = Invoke-MySqlFullBackup -Config $Config -WarningVariable warned -WarningAction SilentlyContinue
            $backup.Id | Should -Not -BeNullOrEmpty
            "$warned" | Should -Match 'Metrics not recorded: Pushgateway http://127\.0\.0\.1:1/'
            Get-Sample ecomdr_job_bytes_stored full-backup | Should -Be $backup.Size -Because 'the textfile is still written'
        }
        finally { Remove-Item env:ECOMDR_PUSHGATEWAY_URL }
    }

    It 'every job wrote signed lines to the job log; Test-DrJobLog verifies them and finds an edited line' {
        $log = Join-Path $Root 'logs/jobs.jsonl'
        $lines = @(Get-Content $log)
        $entries = $lines | ConvertFrom-Json
        foreach ($job in $entries | Group-Object jobId) {
            @($job.Group | Where-Object step -in 'finished', 'failed').Count | Should -Be 1 -Because "job $($job.Name) ($($job.Group[0].job)) ends once"
        }
        @($entries | Where-Object step -eq 'started').Count | Should -BeGreaterOrEqual 6
        ($entries | Where-Object { $_.job -eq 'full-backup' -and $_.step -eq 'failed' }).error | Should -Match 'EcomDr.AuthenticationFailed|Access denied'
        ($entries | Where-Object { $_.job -eq 'full-backup' -and $_.step -eq 'finished' })[0].bytesStored | Should -Be $Full.Size
        $lines | Should -Not -Match 'Me@-pw-5|wrong-password' -Because 'secrets never reach the job log'
        $report = Test-DrJobLog -Config $Config
        $report.Passed | Should -BeTrue -Because (($report.Problems | ForEach-Object { "line $($_.Line): $($_.Problem)" }) -join '; ')
        $report.Lines | Should -Be $lines.Count
        # An auditor has the log and the public key only.
        $auditorCopy = Join-Path $Root 'auditor'
        New-Item -ItemType Directory $auditorCopy | Out-Null
        Copy-Item $log, (Join-Path $Root 'prod.key.pub.pem') $auditorCopy
        $auditor = Test-DrJobLog (Join-Path $auditorCopy 'jobs.jsonl') -Repository (Join-Path $Root 'primary') -TrustedKey (Join-Path $auditorCopy 'prod.key.pub.pem')
        $auditor.Passed | Should -BeTrue
        $lines[1] = $lines[1] -replace '"outcome":"success"', '"outcome":"failure"'
        Set-Content $log $lines
        $tampered = Test-DrJobLog -Config $Config
        $tampered.Passed | Should -BeFalse
        ($tampered.Problems | Select-Object -First 1).Line | Should -Be 2
        ($tampered.Problems | Select-Object -First 1).Problem | Should -Match 'signature does not verify'
    }
}

Describe 'The job log in Loki (LokiStandIn: no Loki can be installed here)' {
    BeforeAll {
        $script:Loki = [EcomDr.TestKit.Servers.LokiStandIn]::Start()
        $script:LokiRoot = Join-Path $Root 'loki'
        New-Item -ItemType Directory $LokiRoot | Out-Null
        Copy-Item (Join-Path $Root 'prod.key*') $LokiRoot
        $script:LokiConfig = Join-Path $LokiRoot 'ecomdr.json'
        @{
            schemaVersion = 1
            environments  = @{
                prod = @{
                    mysql        = @{ server = '127.0.0.1'; port = $Server.Port; sslMode = 'None'; schemas = @('ecommerce'); credential = @{ user = 'metrics'; passwordEnv = 'ECOMDR_METRICS_PW' } }
                    repositories = @{ primary = @{ type = 'filesystem'; path = 'primary' } }
                    keys         = @(@{ type = 'localFile'; path = 'prod.key' })
                    telemetry    = @{ jobLog = 'logs/jobs.jsonl'; loki = @{ url = $Loki.Endpoint.ToString(); tenant = 'shop' } }
                }
            }
        } | ConvertTo-Json -Depth 6 | Set-Content $LokiConfig
    }
    AfterAll { if ($Loki) { Wait-Task ($Loki.DisposeAsync().AsTask()) } }

    It 'a job pushes its lines as they are; Test-DrJobLog -FromLoki verifies them and finds a line changed in Loki' {
        $full = Invoke-MySqlFullBackup -Config $LokiConfig
        $null = Test-BackupIntegrity $full.Id -Config $LokiConfig
        $lines = @(Get-Content (Join-Path $LokiRoot 'logs/jobs.jsonl'))
        $lines.Count | Should -Be 4
        $stored = $Loki.Entries('shop')
        @($stored | ForEach-Object Line) | Should -Be $lines
        @($stored | ForEach-Object { $_.Labels['job'] } | Select-Object -Unique) | Should -Be @('full-backup', 'integrity-test')
        $report = Test-DrJobLog -Config $LokiConfig -FromLoki -Since ([DateTime]::UtcNow.AddHours(-1))
        $report.Passed | Should -BeTrue -Because (($report.Problems | ForEach-Object { "line $($_.Line): $($_.Problem)" }) -join '; ')
        $report.Lines | Should -Be 4
        $report.LastHash | Should -Be (Test-DrJobLog -Config $LokiConfig).LastHash
        $report.Path | Should -BeLike "*{source=`"ecomdr`",host=`"$([Environment]::MachineName)`",environment=`"prod`"}"

        $Loki.Replace('shop', $lines[2], ($lines[2] -replace '"step":"started"', '"step":"finished"'))
        $tampered = Test-DrJobLog -Config $LokiConfig -FromLoki
        $tampered.Passed | Should -BeFalse
        ($tampered.Problems | Select-Object -First 1).Line | Should -Be 3
        ($tampered.Problems | Select-Object -First 1).Problem | Should -Match 'signature does not verify'
        (Test-DrJobLog -Config $LokiConfig -FromLoki -HostName 'no-such-host').Lines | Should -Be 0
    }

    It 'refuses -FromLoki without telemetry.loki, and a -Since after -Until' {
        { Test-DrJobLog -Config $Config -FromLoki } | Should -Throw -ErrorId 'EcomDr.JobLogNotConfigured,EcomDr.Commands.TestDrJobLogCommand'
        { Test-DrJobLog -Config $LokiConfig -FromLoki -Since ([DateTime]::UtcNow) -Until ([DateTime]::UtcNow.AddHours(-1)) } | Should -Throw -ErrorId 'EcomDr.InvalidArgument,EcomDr.Commands.TestDrJobLogCommand'
    }
}

Describe 'Alert rules and the dashboard' {
    BeforeAll {
        $script:Repo = Resolve-Path (Join-Path $PSScriptRoot '../..')
        $script:Emitted = [regex]::Matches((Get-Content -Raw (Join-Path $Repo 'src/EcomDr.Engine/Operations/Telemetry/MetricNames.cs')), '"(ecomdr_[a-z_]+)"') | ForEach-Object { $_.Groups[1].Value } | Sort-Object -Unique
        $script:Rules = Join-Path $Repo 'module/monitoring/ecomdr.rules.yml'
        $script:Dashboard = Get-Content -Raw (Join-Path $Repo 'module/monitoring/grafana-backups-dr.json') | ConvertFrom-Json
        $script:RuleExpressions = @(Select-String -Path $Rules -Pattern '^\s+expr: (.+)$' | ForEach-Object { $_.Matches[0].Groups[1].Value }) +
            # the one folded expression (>) spans the lines after its key
            @((Get-Content -Raw $Rules) -replace "`r", '' | Select-String -Pattern '(?ms)expr: >\n(.+?)\n\s+labels:' -AllMatches | ForEach-Object { $_.Matches } | ForEach-Object { ($_.Groups[1].Value -split "`n" | ForEach-Object Trim) -join ' ' }) |
            Where-Object { $_ -ne '>' }
        $script:DashboardExpressions = @($Dashboard.panels.targets.expr)
        function Get-MetricNames([string] $Expression) { [regex]::Matches($Expression, 'ecomdr_[a-z_]+') | ForEach-Object Value }
    }

    It 'pass their promtool unit tests (each alert firing when it should, silent when it should not)' {
        $check = & promtool check rules $Rules 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($check -join "`n")
        ($check -join "`n") | Should -Match 'SUCCESS: 17 rules found'
        Push-Location (Join-Path $Repo 'tests/monitoring')
        try { $test = & promtool test rules ecomdr.rules.test.yml ecomdr.rules.long.test.yml 2>&1 } finally { Pop-Location }
        $LASTEXITCODE | Should -Be 0 -Because ($test -join "`n")
        $alerts = [regex]::Matches((Get-Content -Raw $Rules), 'alert: (\w+)') | ForEach-Object { $_.Groups[1].Value }
        $tested = (Get-ChildItem (Join-Path $Repo 'tests/monitoring') -Filter *.test.yml | Get-Content -Raw) -join "`n"
        foreach ($alert in $alerts) { $tested | Should -Match "alertname: $alert\b" -Because "$alert needs a unit test" }
    }

    It 'use only the metric names the jobs emit' {
        $RuleExpressions.Count | Should -Be 17
        $DashboardExpressions.Count | Should -BeGreaterThan 9
        foreach ($expression in $RuleExpressions + $DashboardExpressions) {
            $names = @(Get-MetricNames $expression)
            $names.Count | Should -BeGreaterThan 0 -Because "$expression reads EcomDr metrics"
            foreach ($name in $names) { $name | Should -BeIn $Emitted -Because "$expression" }
        }
        $Dashboard.title | Should -Be 'Backups & DR'
        $Dashboard.panels.title | Should -Contain 'RPO exposure (objective 15 min)'
        $Dashboard.panels.title | Should -Contain 'Drill RTO vs objective'
    }

    It 'run on the real Prometheus, and the dashboard shows what the jobs recorded' {
        foreach ($expression in $RuleExpressions + $DashboardExpressions) {
            $query = $expression -replace '\$environment', '.*'
            $answer = Invoke-RestMethod "$($Prometheus.Url)api/v1/query?query=$([uri]::EscapeDataString($query))"
            $answer.status | Should -Be 'success' -Because $query
        }
        $bytes = ($Dashboard.panels | Where-Object title -eq 'Bytes stored per run').targets[0].expr -replace '\$environment', '.*'
        $series = (Invoke-RestMethod "$($Prometheus.Url)api/v1/query?query=$([uri]::EscapeDataString($bytes))").data.result
        ($series | Where-Object { $_.metric.job -eq 'full-backup' }).value[1] | Should -Not -BeNullOrEmpty
    }
}
