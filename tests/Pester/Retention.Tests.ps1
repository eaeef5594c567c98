# Invoke-DrRetention and Set-DrBackupHold on a real file-system repository: the plan under -WhatIf
# with every reason, the leftovers of a dead job removed, holds, and bad policies refused naming the
# field. The policy over weeks of simulated backups is proven in xunit (RetentionPlannerTests), where
# the engine's clock can be moved.
BeforeAll {
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-pester-retention-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Root | Out-Null
    $script:Config = Join-Path $Root 'ecomdr.json'
    function Write-Config([hashtable] $Retention, [string] $Path = $Config) {
        @{
            schemaVersion = 1
            environments  = @{
                prod = @{
                    mysql        = @{ server = '127.0.0.1'; credential = @{ user = 'x'; passwordEnv = 'ECOMDR_UNUSED' } }
                    repositories = @{ primary = @{ type = 'filesystem'; path = 'primary' }; offsite = @{ type = 'filesystem'; path = 'offsite' } }
                    keys         = @(@{ type = 'localFile'; path = 'prod.key' })
                    retention    = $Retention
                    telemetry    = @{ textfile = 'textfile/ecomdr.prom' }
                }
            }
        } | ConvertTo-Json -Depth 8 | Set-Content $Path
    }
    Write-Config @{ kinds = @{ docs = @{ keepDays = 14 } } }
    $null = New-DrKey -Config $Config
    $source = Join-Path $Root 'docs'
    New-Item -ItemType Directory $source | Out-Null
    Set-Content (Join-Path $source 'adr.md') '# ADR'
    $script:Older = Backup-DrFile -Path $source -Kind docs -Config $Config
    $script:Newer = Backup-DrFile -Path $source -Kind docs -Config $Config -Force  # the same files: -Force writes a second backup

    # The leftovers of a job that died three days ago: objects, no manifest.
    $script:Dead = Join-Path $Root 'primary/prod/docs/20200101T000000Z-dead01'
    New-Item -ItemType Directory $Dead | Out-Null
    Copy-Item (Get-ChildItem (Join-Path $Root "primary/prod/docs/$($Older.Id)") -Filter '*.edr')[0].FullName (Join-Path $Dead '000001.edr')
    & touch -d '3 days ago' (Join-Path $Dead '000001.edr')
}

AfterAll {
    Remove-Item $Root -Recurse -Force -ErrorAction Ignore
}

Describe 'Invoke-DrRetention' {
    It 'shows the plan under -WhatIf, each backup with its reasons, and removes nothing' {
        $out = Invoke-DrRetention -Config $Config -WhatIf
        $decisions = @($out | Where-Object { $_.GetType().Name -eq 'RetentionDecision' })
        $summary = $out | Where-Object { $_.GetType().Name -eq 'RetentionSummary' }
        $decisions.Id | Should -Be @('20200101T000000Z-dead01', $Older.Id, $Newer.Id)   # oldest first
        ($decisions | Where-Object Id -eq $Older.Id).Reasons | Should -Be @('within 14 day(s)')
        ($decisions | Where-Object Id -eq $Newer.Id).Reasons | Should -Be @('within 14 day(s)', 'newest docs backup')
        $leftover = $decisions | Where-Object Id -eq '20200101T000000Z-dead01'
        $leftover.Decision | Should -Be 'Expire'
        $leftover.Reason | Should -Be 'incomplete for more than 24 h: a job that died'
        ($summary.Kept, $summary.Expired, $summary.Removed, $summary.WhatIf) | Should -Be @(2, 1, 0, $true)
        Test-Path $Dead | Should -BeTrue
        Test-Path (Join-Path $Root 'primary/prod/_catalog/index.json') | Should -BeFalse   # -WhatIf writes nothing, not even the index
    }

    It 'removes what expired with -Force and keeps the rest' {
        $summary = Invoke-DrRetention -Config $Config -Force | Where-Object { $_.GetType().Name -eq 'RetentionSummary' }
        ($summary.Removed, $summary.BytesFreed) | Should -Be @(1, (Get-Item (Join-Path $Root "primary/prod/docs/$($Older.Id)/000001.edr")).Length)
        Test-Path (Join-Path $Dead '000001.edr') | Should -BeFalse
        (Get-DrBackup docs -Config $Config).Id | Should -Be @($Older.Id, $Newer.Id)
        # The run's metrics: what it removed and freed, and what the store keeps per kind.
        $metrics = Get-DrMetric -Config $Config
        ($metrics | Where-Object { $_.Name -eq 'ecomdr_retention_backups_expired' -and $_.Job -eq 'retention' }).Value | Should -Be 1
        ($metrics | Where-Object { $_.Name -eq 'ecomdr_retention_bytes_freed' -and $_.Job -eq 'retention' }).Value | Should -Be $summary.BytesFreed
        ($metrics | Where-Object { $_.Name -eq 'ecomdr_store_bytes' -and $_.Kind -eq 'docs' }).Value | Should -Be ($Older.Size + $Newer.Size)
        ($metrics | Where-Object { $_.Name -eq 'ecomdr_job_success' -and $_.Job -eq 'retention' }).Value | Should -Be 1
        # The run left the catalog index (sealed: no backup id in it); the next plan, made from it, says the same.
        $index = Join-Path $Root 'primary/prod/_catalog/index.json'
        Get-Content -Raw $index | Should -Not -Match ([regex]::Escape($Older.Id))
        $before = (Get-FileHash $index).Hash
        (Invoke-DrRetention -Config $Config -WhatIf | Where-Object { $_.GetType().Name -eq 'RetentionDecision' }).Id | Should -Be @($Older.Id, $Newer.Id)
        # Nothing left to do: a second run expires nothing, and rewrites the index.
        (Invoke-DrRetention -Config $Config -Force | Where-Object { $_.GetType().Name -eq 'RetentionSummary' }).Expired | Should -Be 0
        (Get-FileHash $index).Hash | Should -Not -Be $before   # a fresh key and nonce each time
    }

    It 'acts on the kinds asked for only' {
        @(Invoke-DrRetention mysql-full -Config $Config -WhatIf | Where-Object { $_.GetType().Name -eq 'RetentionDecision' }) | Should -BeNullOrEmpty
    }

    It 'refuses a policy that <What>, naming the field' -ForEach @(
        @{ What = 'keeps for zero days'; Retention = @{ kinds = @{ docs = @{ keepDays = 0 } } }; Field = 'environments.prod.retention.kinds.docs.keepDays' }
        @{ What = 'names an unknown kind'; Retention = @{ kinds = @{ binlogs = @{ keepDays = 7 } } }; Field = 'environments.prod.retention.kinds.binlogs' }
        @{ What = 'keeps no full backup'; Retention = @{ minFull = 0 }; Field = 'environments.prod.retention.minFull' }
    ) {
        $bad = Join-Path $Root "bad-$([guid]::NewGuid().ToString('N')).json"
        Write-Config $Retention $bad
        $err = $null
        try { Invoke-DrRetention -Config $bad -Force } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'EcomDr.ConfigInvalid,*'
        $err.Exception.Message | Should -Match ([regex]::Escape($Field))
        (Get-DrBackup docs -Config $Config).Count | Should -Be 2
    }
}

Describe 'Set-DrBackupHold' {
    It 'holds a backup with its reason, which every plan shows, until released' {
        $hold = $Older | Set-DrBackupHold -Config $Config -Reason 'INC-4711 legal hold'
        ($hold.Id, $hold.Reason, $hold.Store) | Should -Be @($Older.Id, 'INC-4711 legal hold', 'primary')
        $decision = Invoke-DrRetention -Config $Config -WhatIf | Where-Object { $_.GetType().Name -eq 'RetentionDecision' -and $_.Id -eq $Older.Id }
        $decision.Reasons | Should -Contain 'hold: INC-4711 legal hold'
        Set-DrBackupHold $Older.Id -Release -Config $Config
        $decision = Invoke-DrRetention -Config $Config -WhatIf | Where-Object { $_.GetType().Name -eq 'RetentionDecision' -and $_.Id -eq $Older.Id }
        $decision.Reasons | Should -Not -Contain 'hold: INC-4711 legal hold'
        Set-DrBackupHold $Older.Id -Release -Config $Config -WarningVariable w -WarningAction SilentlyContinue
        $w[0].Message | Should -Match 'had no hold'
    }

    It 'refuses a hold on an unknown id and writes nothing' {
        { Set-DrBackupHold '20200101T000000Z-000000' -Reason 'x' -Config $Config } | Should -Throw -ErrorId 'EcomDr.BackupNotFound,*'
        Test-Path (Join-Path $Root 'primary/prod/_holds/20200101T000000Z-000000.json') | Should -BeFalse
    }
}

Describe 'Get-DrInventory' {
    It 'lists every backup in every store, where it is, its last verification and its retention, and renders it for people' {
        $null = $Newer | Copy-DrBackup -Config $Config -Destination offsite
        $null = Test-BackupIntegrity $Newer.Id -Config $Config -Deep
        $items = @(Get-DrInventory -Config $Config | Where-Object { $_.GetType().Name -eq 'InventoryItem' })
        $items.Id | Should -Be @($Older.Id, $Newer.Id)
        $oldItem = $items | Where-Object Id -eq $Older.Id
        $newItem = $items | Where-Object Id -eq $Newer.Id
        ($oldItem.Where, $newItem.Where) | Should -Be @('primary only', 'primary, offsite')
        $oldItem.Verified | Should -Be 'primary: never'
        $newItem.Verified | Should -Match '^primary: Passed \(deep\) \d{4}-\d\d-\d\d \d\d:\d\dZ; offsite: never$'
        $newItem.Retention | Should -Be 'primary: Keep (within 14 day(s); newest docs backup); offsite: Keep (within 14 day(s); newest docs backup)'
        $oldItem.ExpiresAt | Should -Be ($Older.Completed.AddDays(14))

        $markdown = Get-DrInventory -Config $Config -Format Markdown
        $markdown | Should -Match '(?m)^\| kind \| id \| created \(UTC\) \|'
        $markdown | Should -Match ([regex]::Escape("| docs | $($Newer.Id) |"))
        $html = Get-DrInventory -Config $Config -Format Html
        $html | Should -Match ([regex]::Escape("<td>$($Older.Id)</td>"))
        $html | Should -Match '<td>primary, offsite</td>'

        # One store only, when named.
        (Get-DrInventory -Config $Config -Store offsite | Where-Object { $_.GetType().Name -eq 'InventoryItem' }).Id | Should -Be @($Newer.Id)
    }
}

Describe 'An interrupted retention run' {
    It 'leaves no complete-looking backup with missing artifacts after kill -9, and the next run finishes' {
        $root = Join-Path $Root "killed-$([guid]::NewGuid().ToString('N'))"
        New-Item -ItemType Directory $root | Out-Null
        $config = Join-Path $root 'ecomdr.json'
        Write-Config @{ kinds = @{ docs = @{ keepDays = 14 } } } $config
        $null = New-DrKey -Config $config
        $pwsh = [Environment]::ProcessPath
        $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
        # 80 complete docs backups of 8 objects each, a month old: all but the newest expire.
        & $pwsh @prefix -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'Write-AgedBackups.ps1') -ModuleFolder (Split-Path $env:ECOMDR_MODULE_MANIFEST) `
            -RepositoryPath (Join-Path $root 'primary') -KeyPath (Join-Path $root 'prod.key') -Count 80 -ArtifactsPerBackup 8 -DaysAgo 30 | Out-Null
        $LASTEXITCODE | Should -Be 0
        $folder = Join-Path $root 'primary/prod/docs'
        function Get-Manifests { @(Get-ChildItem $folder -Filter manifest.json -Recurse -ErrorAction Ignore).Count }
        Get-Manifests | Should -Be 80

        $script = "Import-Module '$env:ECOMDR_MODULE_MANIFEST'; Invoke-DrRetention -Config '$config' -Force | Out-Null"
        $child = Start-Process $pwsh -ArgumentList ($prefix + @('-NoProfile', '-NonInteractive', '-Command', $script)) -PassThru
        try {
            # The state to kill in: removals under way, not finished.
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ((Get-Manifests) -gt 75 -and -not $child.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 10 }
        }
        finally {
            $tree = @($child.Id)
            for ($i = 0; $i -lt $tree.Count; $i++) { $tree += @(& pgrep -P $tree[$i] | ForEach-Object { [int]$_ }) }
            & kill -9 @tree 2>$null
            $child.WaitForExit()
        }
        $left = Get-Manifests
        $left | Should -BeLessThan 80 -Because 'the run had started removing'
        $left | Should -BeGreaterThan 1 -Because 'the kill came before the run finished'

        # Whatever still has its manifest is whole: every object it names is there, with its hash.
        $complete = @(Get-DrBackup docs -Config $config)
        $complete.Count | Should -Be $left
        foreach ($backup in $complete) { (Test-BackupIntegrity $backup.Id -Config $config).Status | Should -Be 'Passed' }

        # The next run takes over the dead run's lock, removes the rest and the half-removed leftovers.
        $summary = Invoke-DrRetention -Config $config -Force -WarningAction SilentlyContinue | Where-Object { $_.GetType().Name -eq 'RetentionSummary' }
        $summary.Removed | Should -Be $summary.Expired
        @(Get-DrBackup docs -Config $config -IncludeIncomplete).Count | Should -Be 1
        # Not a file of the removed backups is left (a kill between a folder's last file and the folder itself can leave it empty).
        @(Get-ChildItem $folder -Directory | Where-Object { Get-ChildItem $_.FullName -File -Recurse -Force }).Count | Should -Be 1
    }
}

