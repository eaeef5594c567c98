# Backup-VaultSecret and Restore-VaultSecret end to end: the packaged module, a real file-system
# repository, and two instances of the test kit's Vault stand-in (no Vault server can run here;
# docs/testing.md): the exported one and the secondary vault of the configuration.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestKit.ps1')
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-pester-vault-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Root | Out-Null
    $script:Primary = [EcomDr.TestKit.Servers.VaultStandIn]::Start()
    $script:Secondary = [EcomDr.TestKit.Servers.VaultStandIn]::Start()
    $script:Values = [System.Collections.Generic.List[string]]::new()
    function Set-Secret($Vault, [string] $Path, [string] $Value) {
        $data = [System.Collections.Generic.Dictionary[string, string]]::new()
        $data['password'] = $Value
        $data['user'] = 'svc-' + ($Path -replace '/', '-')
        $null = $Vault.Put('secret', $Path, $data)
    }
    foreach ($i in 1..30) {
        $path = if ($i % 3) { "shop/app/key$i" } else { "infra/db/conn$i" }
        foreach ($v in 1..(1 + $i % 2)) {
            $value = "pester-$i-v$v-$([guid]::NewGuid().ToString('N'))"
            $Values.Add($value)
            Set-Secret $Primary $path $value
        }
        $custom = [System.Collections.Generic.Dictionary[string, string]]::new()
        $custom['owner'] = "team$($i % 4)"
        $Primary.SetMetadata('secret', $path, $custom, 5, ($i % 10 -eq 0), '0s')
    }

    $env:ECOMDR_PESTER_VAULT_TOKEN = [EcomDr.TestKit.Servers.VaultStandIn]::Token
    $script:Config = Join-Path $Root 'ecomdr.json'
    $null = New-DrKey -Path (Join-Path $Root 'prod.key')
    @{
        schemaVersion = 1
        environments  = @{
            prod = @{
                vault        = @{
                    address   = $Primary.Address.ToString()
                    auth      = @{ method = 'token'; tokenEnv = 'ECOMDR_PESTER_VAULT_TOKEN' }
                    mounts    = @(@{ mount = 'secret'; prefixes = @('shop', 'infra') })
                    secondary = @{ address = $Secondary.Address.ToString(); auth = @{ tokenEnv = 'ECOMDR_PESTER_VAULT_TOKEN' } }
                }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'repo' } }
                keys         = @(@{ type = 'localFile'; path = 'prod.key' })
            }
        }
    } | ConvertTo-Json -Depth 8 | Set-Content $Config

    # Every text a run leaves: files under the test folder, and what the streams carried.
    function Get-AllText([object[]] $Streams) {
        $files = Get-ChildItem $Root -Recurse -File | ForEach-Object { [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes($_.FullName)) }
        @($files) + @($Streams | ForEach-Object { ($_ | Out-String) + ($_ | Format-List * -Force | Out-String) })
    }
}

AfterAll {
    Remove-Item env:ECOMDR_PESTER_VAULT_TOKEN -ErrorAction Ignore
    if ($Primary) { Wait-Task ($Primary.DisposeAsync().AsTask()) }
    if ($Secondary) { Wait-Task ($Secondary.DisposeAsync().AsTask()) }
    Remove-Item $Root -Recurse -Force -ErrorAction Ignore
}

Describe 'Backup-VaultSecret' {
    It 'writes nothing under -WhatIf' {
        Backup-VaultSecret -Config $Config -WhatIf 6>$null | Should -BeNullOrEmpty
        @(Get-DrBackup secrets -Config $Config).Count | Should -Be 0
    }

    It 'exports the configured mounts, then writes nothing while they are unchanged, and again with -Force' {
        $first = Backup-VaultSecret -Config $Config
        $first.Skipped | Should -BeFalse
        $first.Summary.Secrets | Should -Be 30
        $first.Summary.Versions | Should -Be 45
        $first.Backup.Kind | Should -Be 'secrets'

        $again = Backup-VaultSecret -Config $Config -Verbose 4>&1
        $message = $again | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'Unchanged since backup*' }
        $message | Should -Not -BeNullOrEmpty
        $result = $again | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $result.Skipped | Should -BeTrue
        $result.Backup.Id | Should -Be $first.Backup.Id
        @(Get-DrBackup secrets -Config $Config).Count | Should -Be 1

        (Backup-VaultSecret -Config $Config -Force).Skipped | Should -BeFalse
        Set-Secret $Primary 'shop/app/key1' 'pester-changed-value'
        $Values.Add('pester-changed-value')
        (Backup-VaultSecret -Config $Config).Skipped | Should -BeFalse
        @(Get-DrBackup secrets -Config $Config).Count | Should -Be 3
    }

    It 'refuses bad input clearly before anything is written: <Case>' -ForEach @(
        @{ Case = 'an unknown mount'; Arguments = @{ Mount = 'nosuch' }; ErrorId = 'EcomDr.SecretNotFound' }
        @{ Case = 'an unreachable Vault'; Arguments = @{ VaultAddress = 'http://127.0.0.1:1/' }; ErrorId = 'EcomDr.SecretSourceUnavailable' }
        @{ Case = 'an address without VAULT_TOKEN'; Arguments = @{ VaultAddress = 'http://127.0.0.1:1/' }; ErrorId = 'EcomDr.SecretNotFound'; NoToken = $true }
        @{ Case = 'a prefix without a mount'; Arguments = @{ Prefix = 'shop' }; ErrorId = 'EcomDr.InvalidArgument' }
    ) {
        $before = @(Get-DrBackup secrets -Config $Config).Count
        $err = $null
        $env:VAULT_TOKEN = if ($NoToken) { $null } else { 'hvs.for-an-address-given' }
        try { Backup-VaultSecret -Config $Config @Arguments -ErrorAction Stop } catch { $err = $_ } finally { Remove-Item env:VAULT_TOKEN -ErrorAction Ignore }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
        @(Get-DrBackup secrets -Config $Config).Count | Should -Be $before
    }

    It 'says a wrong token is one, and never shows it' {
        $env:ECOMDR_PESTER_VAULT_TOKEN = 'hvs.wrong-token-value'
        try {
            $err = $null
            try { Backup-VaultSecret -Config $Config -ErrorAction Stop } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -BeLike 'EcomDr.AuthenticationFailed,*'
            ($err | Out-String) + $err.Exception.ToString() | Should -Not -Match 'wrong-token-value'
        } finally {
            $env:ECOMDR_PESTER_VAULT_TOKEN = [EcomDr.TestKit.Servers.VaultStandIn]::Token
        }
    }
}

Describe 'Restore-VaultSecret' {
    It 'shows the difference per path under -WhatIf and writes nothing' {
        $plan = Restore-VaultSecret -Config $Config -Destination secondary -WhatIf 6>$null
        @($plan).Count | Should -Be 30
        @($plan | Where-Object Change -eq 'Added').Count | Should -Be 30
        @($plan | Where-Object Applied).Count | Should -Be 0
        $Secondary.Requests | Where-Object { $_ -like 'POST *' } | Should -BeNullOrEmpty
    }

    It 'puts the newest export into the secondary vault, equal by digest, and a second run changes nothing' {
        $done = Get-DrBackup secrets -Config $Config -Latest | Restore-VaultSecret -Config $Config -Destination secondary -Force
        @($done | Where-Object Applied).Count | Should -Be 30
        $Secondary.ContentDigest('secret') | Should -Be $Primary.ContentDigest('secret')
        $again = Restore-VaultSecret -Config $Config -Destination secondary -Force
        @($again | Where-Object Change -ne 'Unchanged').Count | Should -Be 0
    }

    It 'refuses to replace another value without -Overwrite, before anything is written, and replaces it with it' {
        Set-Secret $Secondary 'shop/app/key2' 'changed-in-the-secondary'
        $Values.Add('changed-in-the-secondary')
        Set-Secret $Primary 'shop/app/key4' 'pester-newer-in-primary'
        $Values.Add('pester-newer-in-primary')
        $null = Backup-VaultSecret -Config $Config
        $err = $null
        try { Restore-VaultSecret -Config $Config -Destination secondary -Force -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'EcomDr.DestinationExists,*'
        $Secondary.Current('secret', 'shop/app/key2')['password'] | Should -Be 'changed-in-the-secondary'
        $Secondary.Current('secret', 'shop/app/key4')['password'] | Should -Not -Be 'pester-newer-in-primary'

        $done = Restore-VaultSecret -Config $Config -Destination secondary -Overwrite -Force
        ($done | Where-Object FullPath -eq 'secret/shop/app/key2').WrittenVersion | Should -Be 3
        $Secondary.ContentDigest('secret') | Should -Be $Primary.ContentDigest('secret')
    }

    It 'refuses a path the backup does not hold' {
        $err = $null
        try { Restore-VaultSecret -Config $Config -Destination secondary -Path 'secret/shop/no-such' -Force -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'EcomDr.SecretNotFound,*'
    }

    It 'Sync-VaultSecret keeps the secondary in step in one step, leaving what is only there alone' {
        Set-Secret $Primary 'infra/db/conn3' 'pester-rotated-in-primary'
        $Values.Add('pester-rotated-in-primary')
        Set-Secret $Secondary 'shop/only-in-secondary' 'pester-secondary-only'
        $Values.Add('pester-secondary-only')
        $null = Backup-VaultSecret -Config $Config
        $plan = Sync-VaultSecret -Config $Config -WhatIf 6>$null
        ($plan | Where-Object FullPath -eq 'secret/infra/db/conn3').Change | Should -Be 'Changed'
        ($plan | Where-Object FullPath -eq 'secret/shop/only-in-secondary').Change | Should -Be 'OnlyInTarget'
        $Secondary.Current('secret', 'infra/db/conn3')['password'] | Should -Not -Be 'pester-rotated-in-primary'

        $done = Sync-VaultSecret -Config $Config -Force
        @($done | Where-Object Applied).FullPath | Should -Be @('secret/infra/db/conn3')
        $Secondary.Current('secret', 'infra/db/conn3')['password'] | Should -Be 'pester-rotated-in-primary'
        $Secondary.Current('secret', 'shop/only-in-secondary')['password'] | Should -Be 'pester-secondary-only'
        @(Sync-VaultSecret -Config $Config -Force | Where-Object Applied).Count | Should -Be 0
    }

    It 'Invoke-SecretsBackup.ps1 exports on change only and keeps the secondary in step, as a schedule runs it' {
        $pwsh = [Environment]::ProcessPath
        $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
        $runbook = Join-Path (Split-Path $env:ECOMDR_MODULE_MANIFEST) 'Runbooks/Invoke-SecretsBackup.ps1'
        $unchanged = (& $pwsh @prefix -NoProfile -NonInteractive -File $runbook -Config $Config -SyncSecondary 2>&1 | ForEach-Object { "$_" }) -join "`n"
        $LASTEXITCODE | Should -Be 0 -Because $unchanged
        $unchanged | Should -Match 'Secrets: unchanged since backup'
        $unchanged | Should -Match 'Secondary vault: 0 written'

        Set-Secret $Primary 'shop/app/key5' 'pester-changed-for-the-runbook'
        $Values.Add('pester-changed-for-the-runbook')
        $changed = (& $pwsh @prefix -NoProfile -NonInteractive -File $runbook -Config $Config -SyncSecondary 2>&1 | ForEach-Object { "$_" }) -join "`n"
        $LASTEXITCODE | Should -Be 0 -Because $changed
        $changed | Should -Match 'Secrets: backup \S+, 30 secret\(s\)'
        $changed | Should -Match 'Secondary vault: 1 written'
        $Secondary.Current('secret', 'shop/app/key5')['password'] | Should -Be 'pester-changed-for-the-runbook'
        foreach ($value in $Values) { ($changed + $unchanged).Contains($value) | Should -BeFalse }
    }

    It 'leaves no value in any file or output stream' {
        $streams = @(
            Backup-VaultSecret -Config $Config -Force -Verbose 4>&1
            Restore-VaultSecret -Config $Config -Destination secondary -WhatIf -Verbose 4>&1 6>&1
        )
        $texts = Get-AllText $streams
        foreach ($value in $Values) {
            $texts | Where-Object { $_.Contains($value) } | Should -BeNullOrEmpty -Because "no file or stream may hold a secret's value"
        }
    }

    It 'Test-DrPrerequisite checks the token, the mount and that every configured path is readable, with the policy that fixes it' {
        $results = Test-DrPrerequisite -Config $Config
        ($results | Where-Object Check -eq 'Vault token').Status | Should -Be 'Pass'
        ($results | Where-Object Check -eq 'Vault token').Observed | Should -Match 'policies default, ecomdr'
        ($results | Where-Object Check -eq 'Vault mount secret').Status | Should -Be 'Pass'
        ($results | Where-Object Check -eq 'Vault read secret/shop').Observed | Should -Be '20 secret(s) listed and read'
        ($results | Where-Object Check -eq 'Vault read secret/infra').Status | Should -Be 'Pass'

        $env:ECOMDR_PESTER_VAULT_TOKEN = $Primary.IssueToken([TimeSpan]::FromHours(2), $false, 'default')
        try { (Test-DrPrerequisite -Config $Config | Where-Object Check -eq 'Vault token').Status | Should -Be 'Warn' }
        finally { $env:ECOMDR_PESTER_VAULT_TOKEN = [EcomDr.TestKit.Servers.VaultStandIn]::Token }

        $Primary.Forbid('secret/data/infra/db/conn9')
        $refused = Test-DrPrerequisite -Config $Config | Where-Object Check -eq 'Vault read secret/infra'
        $refused.Status | Should -Be 'Fail'
        $refused.Observed | Should -Match 'refused at secret/infra/db/conn9'
        $refused.Remediation.Contains('path "secret/data/infra/*" { capabilities = ["read"] }') | Should -BeTrue -Because $refused.Remediation
        (Test-DrPrerequisite -Config $Config | Where-Object Check -eq 'Vault read secret/shop').Status | Should -Be 'Pass'
    }
}

Describe 'Key services for the secrets export' {
    BeforeAll {
        # The secondary stand-in plays a separate key Vault with a Transit key; the local key only signs.
        $Secondary.AddTransitKey('transit', 'ecomdr')
        function Write-KeyConfig([string] $Path, [hashtable] $TransitVault) {
            $transit = @{ type = 'vaultTransit'; key = 'ecomdr' }
            if ($TransitVault) { $transit.vault = $TransitVault }
            @{
                schemaVersion = 1
                environments  = @{
                    prod = @{
                        vault        = @{
                            address = $Primary.Address.ToString()
                            auth    = @{ method = 'token'; tokenEnv = 'ECOMDR_PESTER_VAULT_TOKEN' }
                            mounts  = @(@{ mount = 'secret'; prefixes = @('shop') })
                        }
                        repositories = @{ primary = @{ type = 'filesystem'; path = 'repo-transit' } }
                        keys         = @(@{ type = 'localFile'; path = 'prod.key'; wrap = $false }, $transit)
                    }
                }
            } | ConvertTo-Json -Depth 8 | Set-Content $Path
        }
        $script:TransitConfig = Join-Path $Root 'ecomdr-transit.json'
        Write-KeyConfig $TransitConfig @{ address = $Secondary.Address.ToString(); auth = @{ tokenEnv = 'ECOMDR_PESTER_VAULT_TOKEN' } }
    }

    It 'refuses an export protected only by a Transit key of the Vault it exports, before anything is written' {
        $self = Join-Path $Root 'ecomdr-self.json'
        Write-KeyConfig $self $null
        { Backup-VaultSecret -Config $self } | Should -Throw -ErrorId 'EcomDr.ConfigInvalid,EcomDr.Commands.BackupVaultSecretCommand'
        $err = $null
        try { Backup-VaultSecret -Config $self } catch { $err = $_ }
        $err.Exception.Message | Should -Match "protected only by that Vault's own Transit key"
        Test-Path (Join-Path $Root 'repo-transit') | Should -BeFalse
    }

    It 'exports with data keys from Transit alone, plans a restore through it, and re-wraps after a rotation' {
        $datakeys = $Secondary.TransitCalls('datakey')
        $streams = @(
            ($backup = Backup-VaultSecret -Config $TransitConfig)
        )
        $backup.Skipped | Should -BeFalse
        $backup.Summary.Secrets | Should -Be 20
        $Secondary.TransitCalls('datakey') | Should -BeGreaterThan $datakeys
        $manifest = (Get-DrBackup secrets -Config $TransitConfig -Latest).Manifest
        @($manifest.Artifacts.Encryption.Keys.Provider | Sort-Object -Unique) | Should -Be @('vaultTransit')
        $manifest.Artifacts[0].Encryption.Keys[0].Wrapped | Should -Match '^vault:v1:'

        # Opening the export needs Transit: the plan decrypts it through the key Vault.
        $decrypts = $Secondary.TransitCalls('decrypt')
        $env:VAULT_TOKEN = [EcomDr.TestKit.Servers.VaultStandIn]::Token   # -VaultAddress reads it, as Vault's CLI does
        try { $streams += $plan = @(Restore-VaultSecret -Config $TransitConfig -VaultAddress $Secondary.Address -WhatIf 6>$null) }
        finally { Remove-Item env:VAULT_TOKEN }
        @($plan | Where-Object { "$($_.Change)" -ne "OnlyInTarget" }).Count | Should -Be 20   # every exported path, compared by digest
        $Secondary.TransitCalls('decrypt') | Should -BeGreaterThan $decrypts

        $streams += $rotation = Update-DrKey -Config $TransitConfig -RotateKeyService -Confirm:$false
        $rotation.Rewrapped | Should -Be 1
        $rotation.Versions | Should -Be 'vaultTransit transit/ecomdr v2 (current): 1'   # the local key only signs: it wraps nothing
        (Get-DrBackup secrets -Config $TransitConfig -Latest).Manifest.Artifacts[0].Encryption.Keys[0].Wrapped | Should -Match '^vault:v2:'
        (Update-DrKey -Config $TransitConfig -Check).Pending | Should -Be 0

        # Test-DrPrerequisite makes a data key and opens it again, as a backup and a restore do.
        $keys = Test-DrPrerequisite -Config $TransitConfig | Where-Object Check -like 'Key *'
        ($keys | Where-Object Check -eq 'Key vaultTransit transit/ecomdr').Observed | Should -Match '^latest version 2, min_decryption_version 1, 0 day\(s\) old; a data key made and opened$'
        ($keys | Where-Object Check -eq 'Key localFile').Observed | Should -Match 'signs only'
        @($keys | Where-Object Status -ne 'Pass').Count | Should -Be 0
        $Secondary.Forbid('transit/datakey')
        $denied = Test-DrPrerequisite -Config $TransitConfig | Where-Object Check -eq 'Key vaultTransit transit/ecomdr'
        $denied.Status | Should -Be 'Fail'
        $denied.Remediation | Should -Match 'transit/datakey/plaintext/ecomdr'

        $texts = Get-AllText $streams
        foreach ($value in $Values) {
            $texts | Where-Object { $_.Contains($value) } | Should -BeNullOrEmpty -Because "no file or stream may hold a secret's value"
        }
    }
}
