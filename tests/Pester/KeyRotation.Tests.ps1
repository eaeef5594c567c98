# Update-DrKey on a real file-system repository of 100 backups: a rotation interrupted halfway with
# kill -9 leaves every backup verifiable and restorable, a second run finishes it, and the old
# version can then be removed while what it signed still verifies.
BeforeAll {
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-pester-keys-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Root | Out-Null
    $script:Config = Join-Path $Root 'ecomdr.json'
    @{
        schemaVersion = 1
        environments  = @{
            prod = @{
                mysql        = @{ server = '127.0.0.1'; credential = @{ user = 'x'; passwordEnv = 'ECOMDR_UNUSED' } }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'primary' } }
                keys         = @(@{ type = 'localFile'; path = 'prod.key'; rotateDays = 30 })
                telemetry    = @{ textfile = 'textfile/ecomdr.prom'; jobLog = 'logs/jobs.jsonl' }
            }
        }
    } | ConvertTo-Json -Depth 8 | Set-Content $Config
    $script:Key = New-DrKey -Config $Config
    $script:Pwsh = [Environment]::ProcessPath
    $script:Prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($Pwsh) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
    & $Pwsh @Prefix -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'Write-AgedBackups.ps1') -ModuleFolder (Split-Path $env:ECOMDR_MODULE_MANIFEST) `
        -RepositoryPath (Join-Path $Root 'primary') -KeyPath (Join-Path $Root 'prod.key') -Count 100 -ArtifactsPerBackup 2 -DaysAgo 3 | Out-Null
    $script:Manifests = @(Get-ChildItem (Join-Path $Root 'primary/prod/docs') -Filter manifest.json -Recurse | Sort-Object FullName | ForEach-Object FullName)
    # A job before the rotation: its job log lines are signed by version 1.
    $null = Get-DrBackup docs -Config $Config -Latest | Test-BackupIntegrity -Config $Config
    function Get-Signer([string] $Path) { (Get-Content $Path -Raw | ConvertFrom-Json).signature.keyId }
    function Assert-AllRestorable {
        $reports = @(Get-DrBackup docs -Config $Config | Test-BackupIntegrity -Config $Config -Deep)
        $reports.Count | Should -Be 100
        @($reports | Where-Object { "$($_.Status)" -ne 'Passed' }).Count | Should -Be 0
    }
}

AfterAll {
    Remove-Item $Root -Recurse -Force -ErrorAction Ignore
}

Describe 'Update-DrKey' {
    It 'refuses -Check with -NewVersion, and -RemoveUnused with -Store, before changing anything' {
        $before = Get-FileHash (Join-Path $Root 'prod.key')
        { Update-DrKey -Config $Config -Check -NewVersion } | Should -Throw -ErrorId 'EcomDr.InvalidArgument,EcomDr.Commands.UpdateDrKeyCommand'
        { Update-DrKey -Config $Config -RemoveUnused -Store primary -Confirm:$false } | Should -Throw -ErrorId 'EcomDr.InvalidArgument,EcomDr.Commands.UpdateDrKeyCommand'
        (Get-FileHash (Join-Path $Root 'prod.key')).Hash | Should -Be $before.Hash
    }

    It 'shows under -WhatIf what a rotation would do and changes nothing' {
        $before = Get-FileHash (Join-Path $Root 'prod.key')
        $result = Update-DrKey -Config $Config -NewVersion -WhatIf 6>$null
        $result.Pending | Should -Be 100
        $result.Versions | Should -Be 'localFile v1 (current): 100'
        (Get-FileHash (Join-Path $Root 'prod.key')).Hash | Should -Be $before.Hash
        Get-Signer $Manifests[0] | Should -Be $Key.SigningKeyId
    }

    It 'leaves every backup verifiable and restorable when killed halfway (kill -9), and a second run finishes' {
        # Manifests 51-54 are FIFOs: the four workers block on them in id order, after 50 re-wraps.
        $saved = @{}
        foreach ($path in $Manifests[50..53]) {
            $saved[$path] = [IO.File]::ReadAllBytes($path)
            Remove-Item $path
            & mkfifo $path
        }
        $blocked = [System.Collections.Generic.HashSet[string]]::new([string[]] $Manifests[50..53])
        $script = "Import-Module '$env:ECOMDR_MODULE_MANIFEST'; Update-DrKey -Config '$Config' -NewVersion -Confirm:`$false | Out-Null"
        $child = Start-Process $Pwsh -ArgumentList ($Prefix + @('-NoProfile', '-NonInteractive', '-Command', $script)) -PassThru
        try {
            # The state to kill in: the new version exists and the first 50 manifests are re-signed by it.
            $deadline = [DateTime]::UtcNow.AddSeconds(120)
            $newSigner = $null
            $done = 0
            while (-not $child.HasExited -and [DateTime]::UtcNow -lt $deadline) {
                $pub = Join-Path $Root 'prod.key.pub.pem'
                if ((Get-Content $pub -Raw) -match '(?s)BEGIN PUBLIC KEY.*BEGIN PUBLIC KEY') {
                    $newSigner ??= (Get-Content (Join-Path $Root 'prod.key') -Raw | ConvertFrom-Json).versions.Count
                    $done = @($Manifests | Where-Object { -not $blocked.Contains($_) } | Where-Object { (Get-Signer $_) -ne $Key.SigningKeyId }).Count
                    if ($done -ge 50) { break }
                }
                Start-Sleep -Milliseconds 50
            }
            $child.HasExited | Should -BeFalse -Because 'the run must still be under way when it is killed'
            $done | Should -Be 50
        }
        finally {
            $tree = @($child.Id)
            for ($i = 0; $i -lt $tree.Count; $i++) { $tree += @(& pgrep -P $tree[$i] | ForEach-Object { [int]$_ }) }
            & kill -9 @tree 2>$null
            $child.WaitForExit()
            foreach ($path in $saved.Keys) { Remove-Item $path; [IO.File]::WriteAllBytes($path, $saved[$path]) }
        }

        # Interrupted: half under each version, every one of them verifies and restores.
        $check = Update-DrKey -Config $Config -Check
        ($check.Manifests, $check.Pending, $check.AlreadyCurrent) | Should -Be @(100, 50, 50)
        $check.Versions | Should -Be 'localFile v1: 50, localFile v2 (current): 50'
        Assert-AllRestorable

        # Resumed: without -NewVersion, nothing done twice.
        $resumed = Update-DrKey -Config $Config -Confirm:$false -WarningVariable warnings
        ($resumed.Rewrapped, $resumed.AlreadyCurrent, $resumed.Unreadable.Count) | Should -Be @(50, 50, 0)
        $resumed.Versions | Should -Be 'localFile v2 (current): 100'
        $warnings | Should -BeNullOrEmpty
        $current = (Get-Content (Join-Path $Root 'prod.key') -Raw | ConvertFrom-Json).versions
        $current.version | Should -Be @(1, 2)
        Assert-AllRestorable

        # The run is recorded: the last rotation, and nothing left behind.
        $metrics = Get-DrMetric -Config $Config -Job key-rotation
        ($metrics | Where-Object Name -eq 'ecomdr_key_pending_backups').Value | Should -Be 0
        ($metrics | Where-Object Name -eq 'ecomdr_key_rewrapped_backups').Value | Should -Be 50
    }

    It 'removes the versions no backup needs; what they signed still verifies, from the key file or its public half' {
        $removed = Update-DrKey -Config $Config -RemoveUnused -Confirm:$false
        $removed.Rewrapped | Should -Be 0
        $file = Get-Content (Join-Path $Root 'prod.key') -Raw | ConvertFrom-Json
        $file.versions.version | Should -Be @(2)
        $file.retiredSigningKeys.version | Should -Be @(1)
        (Get-Item (Join-Path $Root 'prod.key')).UnixFileMode | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
        Assert-AllRestorable
        # An auditor with only the public file: every manifest verifies.
        $audit = @(Get-DrBackup docs -Config $Config -KeyFile (Join-Path $Root 'absent.key') -TrustedKey (Join-Path $Root 'prod.key.pub.pem'))
        $audit.Count | Should -Be 100
        @($audit | Where-Object { "$($_.Status)" -ne 'Complete' }).Count | Should -Be 0
        # The job log holds lines by both signing keys, version 1 retired now: the chain verifies whole.
        $signers = @(Get-Content (Join-Path $Root 'logs/jobs.jsonl') | ForEach-Object { ($_ | ConvertFrom-Json).keyId } | Sort-Object -Unique)
        $signers.Count | Should -Be 2
        $log = Test-DrJobLog -Config $Config
        $log.Passed | Should -BeTrue -Because ($log.Problems -join '; ')
    }

    It 'reports the key age and its limit with every backup job, for the rotation alert' {
        $source = Join-Path $Root 'docs-source'
        New-Item -ItemType Directory $source | Out-Null
        Set-Content (Join-Path $source 'adr.md') '# ADR'
        $null = Backup-DrFile -Path $source -Kind docs -Config $Config
        $metrics = Get-DrMetric -Config $Config -Job file-backup
        $created = ($metrics | Where-Object Name -eq 'ecomdr_key_created_timestamp_seconds').Value
        $created | Should -Be ([DateTimeOffset]::Parse((Get-Content (Join-Path $Root 'prod.key') -Raw | ConvertFrom-Json).versions[0].created.ToString('o')).ToUnixTimeSeconds())
        ($metrics | Where-Object Name -eq 'ecomdr_key_rotate_objective_seconds').Value | Should -Be (30 * 86400)
    }
}
