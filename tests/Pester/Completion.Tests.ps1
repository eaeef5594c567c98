# Tab completion as an admin meets it, through PowerShell's own TabExpansion2 on real file-system
# repositories: backup ids newest first with kind and date, kinds, stores, environments, relative
# paths, a backup taken in the session offered at once, and nothing (never an error) without a repository.
BeforeAll {
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-pester-completion-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Root | Out-Null
    New-DrKey -Path (Join-Path $Root 'keys/prod.key') | Out-Null
    $script:ConfigPath = Join-Path $Root 'ecomdr.json'
    @{
        schemaVersion      = 1
        defaultEnvironment = 'prod'
        environments       = @{
            prod    = @{
                mysql        = @{ server = '127.0.0.1'; credential = @{ user = 'x'; passwordEnv = 'ECOMDR_UNUSED' } }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'primary' }; offsite = @{ type = 'filesystem'; path = 'offsite' } }
                keys         = @(@{ type = 'localFile'; path = 'keys/prod.key' })
            }
            staging = @{
                mysql        = @{ server = '127.0.0.1'; credential = @{ user = 'x'; passwordEnv = 'ECOMDR_UNUSED' } }
                repositories = @{ primary = @{ type = 'filesystem'; path = 'staging' } }
                keys         = @(@{ type = 'localFile'; path = 'keys/prod.key' })
            }
        }
    } | ConvertTo-Json -Depth 6 | Set-Content $ConfigPath
    $script:Source = Join-Path $Root 'source'
    New-Item -ItemType Directory $Source | Out-Null
    Set-Content (Join-Path $Source 'a.txt') 'a'
    $script:Docs = Backup-DrFile -Path $Source -Kind docs -Config $ConfigPath
    $script:Infra = Backup-DrFile -Path $Source -Kind infra -Config $ConfigPath

    function Complete([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches
    }
}

AfterAll {
    Remove-Item $Root -Recurse -Force -ErrorAction Ignore
}

Describe 'Completion of backup ids' {
    It 'offers the complete backups newest first, with kind, date and size in the tooltip' {
        $matches = Complete "Get-DrBackup -Config '$ConfigPath' -Id "
        $matches.CompletionText | Should -Be @($Infra.Id, $Docs.Id)
        $matches[0].ToolTip | Should -Match "^infra  $($Infra.Created.UtcDateTime.ToString('yyyy-MM-dd HH:mm:ss'))Z  \d+(\.\d)? (B|KiB)$"
        $matches[1].ToolTip | Should -Match '^docs  '
        $matches[0].ResultType | Should -Be 'ParameterValue'
    }

    It 'narrows to the kind on the line, and to what was typed' {
        (Complete "Get-DrBackup -Config '$ConfigPath' -Kind docs -Id ").CompletionText | Should -Be @($Docs.Id)
        (Complete "Test-BackupIntegrity -Config '$ConfigPath' -Id $($Docs.Id.Substring(0, $Docs.Id.Length - 1))").CompletionText | Should -Be @($Docs.Id)
    }

    It 'offers only full MySQL backups to Restore-MySqlDatabase, never file names' {
        Push-Location $Root
        try {
            (Complete "Restore-MySqlDatabase -Config '$ConfigPath' -Id ").CompletionText | Should -Not -Contain 'ecomdr.json'
            (Complete "Restore-MySqlDatabase -Config '$ConfigPath' -Id ").CompletionText | Should -Not -Contain $Docs.Id
        }
        finally {
            Pop-Location
        }
    }

    It 'resolves a relative -Config against the current PowerShell location' {
        Push-Location $Root
        try {
            (Complete 'Get-DrBackup -Config ./ecomdr.json -Id ').CompletionText | Should -Be @($Infra.Id, $Docs.Id)
        }
        finally {
            Pop-Location
        }
    }

    It 'offers a backup taken in this session at once, although answers are cached' {
        (Complete "Get-DrBackup -Config '$ConfigPath' -Id ").Count | Should -Be 2
        $third = Backup-DrFile -Path $Source -Kind docs -Config $ConfigPath -Force  # the same files: only -Force writes a new backup
        (Complete "Get-DrBackup -Config '$ConfigPath' -Id ").CompletionText | Should -Be @($third.Id, $Infra.Id, $Docs.Id)
        Remove-DrBackup -Config $ConfigPath -Id $third.Id -Force -Confirm:$false -WarningAction SilentlyContinue
        (Complete "Get-DrBackup -Config '$ConfigPath' -Id ").CompletionText | Should -Be @($Infra.Id, $Docs.Id)
    }

    It 'offers nothing, and raises nothing, when the line names no readable repository' {
        $missing = Join-Path $Root 'missing.json'
        { Complete "Get-DrBackup -Config '$missing' -Id " } | Should -Not -Throw
        (Complete "Get-DrBackup -Config '$missing' -Id ") | Where-Object ToolTip -Match 'docs|infra' | Should -BeNullOrEmpty
        (Complete "Get-DrBackup -Config '$ConfigPath' -Environment nowhere -Id ") | Where-Object ToolTip -Match 'docs|infra' | Should -BeNullOrEmpty
    }
}

Describe 'Completion of kinds, stores and environments' {
    It 'offers the kinds holding backups first, with their counts, then the other known kinds' {
        $matches = Complete "Get-DrBackup -Config '$ConfigPath' -Kind "
        $matches.CompletionText[0..1] | Should -Be @('docs', 'infra')
        $matches[0].ToolTip | Should -Be '1 complete backup(s)'
        $matches.CompletionText | Should -Contain 'mysql-full'
        $matches.CompletionText | Should -Contain 'mysql-binlog'
        (Complete "Backup-DrFile -Config '$ConfigPath' -Kind in").CompletionText | Should -Be @('infra')
    }

    It 'offers the environments, the default first, and the stores of the environment named' {
        (Complete "Get-DrBackup -Config '$ConfigPath' -Environment ").CompletionText | Should -Be @('prod', 'staging')
        (Complete "Get-DrBackup -Config '$ConfigPath' -Environment ")[0].ToolTip | Should -Be 'default environment, stores: primary, offsite'
        (Complete "Get-DrBackup -Config '$ConfigPath' -Store ").CompletionText | Should -Be @('primary', 'offsite')
        (Complete "Get-DrBackup -Config '$ConfigPath' -Environment staging -Store ").CompletionText | Should -Be @('primary')
        (Complete "Copy-DrBackup -Config '$ConfigPath' -Id x -Destination o").CompletionText | Should -Be @('offsite')
        (Complete "New-DrKey -Config '$ConfigPath' -Environment st").CompletionText | Should -Be @('staging')
    }
}
