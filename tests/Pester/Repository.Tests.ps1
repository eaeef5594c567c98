# The repository cmdlets end to end on real file-system repositories: keys, file backups, listing,
# integrity (with tampering), offsite copy, expansion (with break-glass), removal, locks, kill -9.
BeforeAll {
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-pester-repo-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Root | Out-Null
    $script:Key = New-DrKey -Path (Join-Path $Root 'keys/prod.key')
    $script:BreakGlass = New-DrKey -BreakGlass -Path (Join-Path $Root 'offline/breakglass.pem') -WarningAction SilentlyContinue
    $script:ConfigPath = Join-Path $Root 'ecomdr.json'
    @{
        schemaVersion = 1
        environments  = @{
            prod = @{
                mysql        = @{ server = '127.0.0.1'; credential = @{ user = 'x'; passwordEnv = 'ECOMDR_UNUSED' } }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'primary' }; offsite = @{ type = 'filesystem'; path = 'offsite' } }
                keys         = @(@{ type = 'localFile'; path = 'keys/prod.key' }, @{ type = 'rsaPublicKey'; path = 'offline/breakglass.pem.pub.pem' })
            }
        }
    } | ConvertTo-Json -Depth 6 | Set-Content $ConfigPath
    $script:Docs = Join-Path $Root 'source/docs'
    New-Item -ItemType Directory (Join-Path $Docs 'adr') -Force | Out-Null
    Set-Content (Join-Path $Docs 'adr/0001-record.md') "# ADR 1`nUse MySQL 8.4 — decisão ✅"
    [IO.File]::WriteAllBytes((Join-Path $Docs 'logo.bin'), [byte[]](0..255 + 0..255))
    Set-Content (Join-Path $Docs 'README.md') ('x' * 100000)

    function Get-TreeHash([string] $Path) {
        Get-ChildItem $Path -Recurse -File | Sort-Object FullName | ForEach-Object {
            '{0} {1}' -f [IO.Path]::GetRelativePath($Path, $_.FullName), (Get-FileHash $_.FullName -Algorithm SHA256).Hash
        }
    }
    $script:Repo = @{ Config = $ConfigPath }
}

AfterAll {
    Remove-Item $Root -Recurse -Force -ErrorAction Ignore
}

Describe 'New-DrKey' {
    It 'wrote an owner-only key file, its public key, and ids but no key material' {
        $Key.Kind | Should -Be 'LocalFile'
        $Key.KeyId | Should -Match '^lk-[0-9a-f]{16}$'
        $Key.SigningKeyId | Should -Match '^sk-[0-9a-f]{16}$'
        [IO.File]::GetUnixFileMode($Key.Path) | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
        Get-Content $Key.PublicKeyPath -Raw | Should -Match 'BEGIN PUBLIC KEY'
        ($Key | Out-String) | Should -Not -Match 'aesKey'
        $BreakGlass.KeyId | Should -Match '^rsa-'
    }

    It 'never overwrites a key and creates nothing under -WhatIf' {
        { New-DrKey -Path $Key.Path } | Should -Throw -ErrorId 'EcomDr.KeyExists,EcomDr.Commands.NewDrKeyCommand'
        $other = Join-Path $Root 'keys/whatif.key'
        New-DrKey -Path $other -WhatIf
        Test-Path $other | Should -BeFalse
    }
}

Describe 'Backup, list, verify, expand' {
    BeforeAll {
        $script:Backup = Backup-DrFile -Path $Docs -Kind docs @Repo -Label @{ gitCommit = 'c0ffee' }
    }

    It 'lists the backup as complete with its size' {
        $Backup.Status | Should -Be 'Complete'
        $listed = Get-DrBackup docs @Repo
        $listed.Id | Should -Be $Backup.Id
        $listed.ArtifactCount | Should -Be 1
        $listed.Manifest.Labels['gitCommit'] | Should -Be 'c0ffee'
        $listed.Manifest.Stats['files'].GetValue[long]() | Should -Be 3
        (Get-DrBackup @Repo -Latest).Id | Should -Be $Backup.Id
        Get-DrBackup @Repo -Before '2000-01-01' | Should -BeNullOrEmpty
        ($listed | Out-String -Width 200) | Should -Match "$($Backup.Id)\s+docs\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+[\d.]+ (B|KiB|MiB)\s+Complete"
    }

    It 'passes a deep integrity check' {
        $report = Get-DrBackup docs @Repo | Test-BackupIntegrity @Repo -Deep
        $report.Status | Should -Be 'Passed'
        $report.Artifacts[0].Bytes | Should -BeGreaterThan 100000
    }

    It 'expands to a tar that the stock tar extracts to identical files' {
        $out = Join-Path $Root 'expanded'
        $file = $Backup | Expand-DrArtifact @Repo -Destination $out
        $file.Name | Should -Be 'files.tar'
        $extract = Join-Path $Root 'extracted'
        New-Item -ItemType Directory $extract | Out-Null
        & tar -xf $file.FullName -C $extract
        $LASTEXITCODE | Should -Be 0
        Get-TreeHash (Join-Path $extract 'docs') | Should -Be (Get-TreeHash $Docs)
    }

    It 'recovers with the break-glass private key and no local key' {
        $out = Join-Path $Root 'breakglass-out'
        $file = Expand-DrArtifact $Backup.Id -Repository (Join-Path $Root 'primary') -Environment prod -KeyFile (Join-Path $Root 'no-such.key') `
            -TrustedKey $Key.PublicKeyPath -BreakGlassKey $BreakGlass.Path -Destination $out
        (Get-FileHash $file.FullName).Hash | Should -Be (Get-FileHash (Join-Path $Root 'expanded/files.tar')).Hash
    }

    It 'lets an auditor verify with the public key only' {
        $report = Test-BackupIntegrity $Backup.Id -Repository (Join-Path $Root 'primary') -Environment prod -KeyFile (Join-Path $Root 'no-such.key') -TrustedKey $Key.PublicKeyPath
        $report.Status | Should -Be 'Passed'
    }
}

Describe 'Offsite copy and tampering' {
    BeforeAll {
        $script:Backup = Backup-DrFile -Path $Docs -Kind infra @Repo
        $script:Copied = $Backup | Copy-DrBackup @Repo -Destination offsite
    }

    It 'copies, verifies at the destination and lists it there' {
        $Copied.Store | Should -Be 'offsite'
        $Copied.Status | Should -Be 'Complete'
        (Get-DrBackup infra @Repo -Store offsite).Id | Should -Be $Backup.Id
        (Get-DrBackup infra @Repo -Store offsite | Test-BackupIntegrity @Repo -Deep).Status | Should -Be 'Passed'
    }

    It 'chains backup | Test-BackupIntegrity | Copy-DrBackup as in the design' {
        $copied = Backup-DrFile -Path $Docs -Kind chain @Repo | Test-BackupIntegrity @Repo | Copy-DrBackup @Repo -Destination offsite
        $copied.Store | Should -Be 'offsite'
        $copied.Kind | Should -Be 'chain'
        (Get-DrBackup chain @Repo -Store offsite).Id | Should -Be $copied.Id
    }

    It 'detects a flipped bit in the offsite artifact, naming it, and repairs it by copying again' {
        $artifact = Get-ChildItem (Join-Path $Root "offsite/prod/infra/$($Backup.Id)") -Filter '*.edr' -Recurse | Select-Object -First 1
        $bytes = [IO.File]::ReadAllBytes($artifact.FullName)
        $bytes[100] = $bytes[100] -bxor 1
        [IO.File]::WriteAllBytes($artifact.FullName, $bytes)

        $report = Get-DrBackup infra @Repo -Store offsite | Test-BackupIntegrity @Repo -ErrorVariable integrityErrors -ErrorAction SilentlyContinue
        $report.Status | Should -Be 'Failed'
        $integrityErrors.Count | Should -Be 1
        $integrityErrors[0].FullyQualifiedErrorId | Should -BeLike 'EcomDr.ArtifactHashMismatch,*'
        $integrityErrors[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $integrityErrors[0].TargetObject | Should -Be 'files.tar'
        (Test-BackupIntegrity $Backup.Id @Repo).Status | Should -Be 'Passed'   # the primary is untouched

        $Backup | Copy-DrBackup @Repo -Destination offsite -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } |
            Where-Object Message -like '*1 artifact(s) copied*' | Should -Not -BeNullOrEmpty
        (Test-BackupIntegrity $Backup.Id @Repo -Store offsite).Status | Should -Be 'Passed'
    }

    It 'hides a backup whose manifest was edited, with a warning, and shows it as Invalid on request' {
        $manifest = Join-Path $Root "offsite/prod/infra/$($Backup.Id)/manifest.json"
        (Get-Content $manifest -Raw) -replace '"kind": "infra"', '"kind": "docs"' | Set-Content $manifest -NoNewline
        Get-DrBackup infra @Repo -Store offsite -WarningVariable warnings -WarningAction SilentlyContinue | Should -BeNullOrEmpty
        $warnings[0].Message | Should -Match 'edited after signing'
        (Get-DrBackup infra @Repo -Store offsite -IncludeIncomplete -WarningAction SilentlyContinue).Status | Should -Be 'Invalid'
        { Copy-DrBackup $Backup.Id @Repo -Store offsite -Destination primary } | Should -Throw -ErrorId 'EcomDr.ManifestInvalid,*'
    }
}

Describe 'Removal, incomplete backups, locks and killed writers' {
    It 'removes nothing under -WhatIf, even with -Force, and everything with -Force' {
        $backup = Backup-DrFile -Path $Docs -Kind scratch @Repo
        $backup | Remove-DrBackup @Repo -Force -WhatIf
        (Get-DrBackup scratch @Repo).Id | Should -Be $backup.Id
        $backup | Remove-DrBackup @Repo -Force
        Get-DrBackup scratch @Repo -IncludeIncomplete | Should -BeNullOrEmpty
        Test-Path (Join-Path $Root "primary/prod/scratch") | Should -BeFalse
    }

    It 'refuses a second writer while the lock is held, naming the holder and since when' {
        $lockDir = New-Item -ItemType Directory -Force (Join-Path $Root 'primary/prod/_locks')
        $since = [DateTimeOffset]::UtcNow
        @{ holder = 'nightly job 42'; host = 'db-backup-01'; processId = 4242; since = $since.ToString('o'); leaseUntil = $since.AddMinutes(5).ToString('o'); token = 'abc' } |
            ConvertTo-Json | Set-Content (Join-Path $lockDir 'docs.lock')
        try {
            $err = $null
            try { Backup-DrFile -Path $Docs -Kind docs @Repo -Force } catch { $err = $_ }  # -Force: the same files again are written, so the lock is taken
            $err.FullyQualifiedErrorId | Should -BeLike 'EcomDr.RepositoryLocked,*'
            $err.CategoryInfo.Category | Should -Be 'ResourceBusy'
            $err.Exception.Message | Should -Match "locked by 'nightly job 42' \(host db-backup-01, pid 4242\) since $($since.UtcDateTime.ToString('yyyy-MM-dd HH:mm'))"
        }
        finally { Remove-Item (Join-Path $lockDir 'docs.lock') }
    }

    It 'leaves only incomplete backups when the writer is killed (kill -9) at <Point>' -ForEach @(
        @{ Point = 'the lock'; Trigger = 'lock' }
        @{ Point = 'mid-upload'; Trigger = 'partial' }
    ) {
        $big = Join-Path $Root "big-$Trigger"
        New-Item -ItemType Directory $big -Force | Out-Null
        $rng = [Random]::new(7)
        foreach ($i in 1..12) { $buffer = [byte[]]::new(16MB); $rng.NextBytes($buffer); [IO.File]::WriteAllBytes((Join-Path $big "blob$i.bin"), $buffer) }
        $script = "Import-Module '$env:ECOMDR_MODULE_MANIFEST'; Backup-DrFile -Path '$big' -Kind crash -Config '$ConfigPath'"
        $child = Start-Process dotnet -ArgumentList @('pwsh', '-NoProfile', '-NonInteractive', '-Command', $script) -PassThru -WorkingDirectory $PSScriptRoot
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        $seen = $false
        while (-not $seen -and [DateTime]::UtcNow -lt $deadline -and -not $child.HasExited) {
            $seen = if ($Trigger -eq 'lock') { Test-Path (Join-Path $Root 'primary/prod/_locks/crash.lock') }
                    else { [bool](Get-ChildItem (Join-Path $Root 'primary/prod/crash') -Recurse -Force -Filter '*.partial' -ErrorAction Ignore | Where-Object Length -gt 1MB) }
            Start-Sleep -Milliseconds 20
        }
        $seen | Should -BeTrue -Because 'the writer reached the kill point'
        # `dotnet pwsh` runs pwsh as a child of the dotnet host: kill the whole tree, as a crash would.
        $tree = @($child.Id)
        for ($i = 0; $i -lt $tree.Count; $i++) { $tree += @(& pgrep -P $tree[$i] | ForEach-Object { [int]$_ }) }
        & kill -9 @tree
        $child.WaitForExit()
        # Every process of the tree done closing its files (not just the host). The files belong to the threads: a
        # leader already a zombie shows no fd while its other threads still exit holding them, so look at every task.
        $alive = { @($tree | Where-Object { @(Get-ChildItem "/proc/$_/task/*/fd/*" -ErrorAction Ignore).Count -gt 0 }) }
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while ((& $alive).Count -gt 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        & $alive | Should -BeNullOrEmpty -Because 'the killed writer is gone'

        Get-DrBackup crash @Repo | Should -BeNullOrEmpty
        $incomplete = @(Get-DrBackup crash @Repo -IncludeIncomplete)
        if ($Trigger -eq 'partial') { $incomplete.Status | Should -Be 'Incomplete' }
        # Killed at the lock, the writer may not have begun a backup folder yet: then there is nothing at all.
        if ($Trigger -eq 'partial' -or $incomplete.Count -gt 0) {
            $incomplete.Status | Should -Not -Contain 'Complete'
            { Expand-DrArtifact $incomplete[0].Id @Repo -Destination (Join-Path $Root 'nope') } | Should -Throw -ErrorId 'EcomDr.BackupIncomplete,*'
        }

        # The dead writer's lock does not block the next job: its process is gone.
        $next = Backup-DrFile -Path $Docs -Kind crash @Repo
        $next.Status | Should -Be 'Complete'
        Remove-DrBackup -Incomplete -Kind crash @Repo -Force
        @(Get-DrBackup crash @Repo -IncludeIncomplete).Id | Should -Be @($next.Id)
        $next | Remove-DrBackup @Repo -Force
        Remove-Item $big -Recurse -Force
    }
}
