BeforeAll {
    . (Join-Path $PSScriptRoot 'TestKit.ps1')
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Good = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync())
    $script:Bad = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync(
            [EcomDr.TestKit.Servers.MariaDbOptions]@{ LogBin = $false; BinlogFormat = 'STATEMENT' }))
    $all = 'SELECT, RELOAD, LOCK TABLES, REPLICATION CLIENT, REPLICATION SLAVE, SHOW VIEW, EVENT, TRIGGER ON *.*'
    Wait-Task ($Good.CreateUserAsync('ecomdr', 'Pester!pw1', [string[]]@($all)))
    Wait-Task ($Bad.CreateUserAsync('ecomdr', 'Pester!pw1', [string[]]@($all -replace 'REPLICATION SLAVE, ', '')))
    $script:Cred = New-TestCredential 'ecomdr' 'Pester!pw1'
}

AfterAll {
    if ($Good) { Wait-Task ($Good.DisposeAsync().AsTask()) }
    if ($Bad) { Wait-Task ($Bad.DisposeAsync().AsTask()) }
}

Describe 'Test-DrPrerequisite against real MariaDB' {
    It 'passes every check on a server configured as EcomDr expects' {
        $results = Test-DrPrerequisite -Server 127.0.0.1 -Port $Good.Port -Credential $Cred -SslMode None
        $results.Count | Should -Be 17
        @($results | Where-Object Status -ne 'Pass' | ForEach-Object { "$($_.Check): $($_.Observed)" }) | Should -BeNullOrEmpty
        $results[0].PSObject.TypeNames[0] | Should -Be 'EcomDr.Engine.Sources.MySql.Prerequisites.PrerequisiteResult'
        ($results | Where-Object Check -eq 'ServerVersion').Observed | Should -Match '^MariaDB 10\.'
    }

    It 'fails exactly binlog off, STATEMENT format and the missing REPLICATION SLAVE grant' {
        $results = Test-DrPrerequisite -Server 127.0.0.1 -Port $Bad.Port -Credential $Cred -SslMode None
        @($results | Where-Object Status -eq 'Fail').Check | Should -Be @('LogBin', 'BinlogFormat', 'Privilege.ReplicationSlave')
        ($results | Where-Object Check -eq 'BinlogFormat').Remediation | Should -Match 'binlog_format=ROW'
    }

    It 'reads server, credential reference and schedule from a configuration file' {
        $dir = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-pester-$([guid]::NewGuid().ToString('N'))"
        New-Item -ItemType Directory $dir | Out-Null
        $envName = "ECOMDR_PESTER_PW_$([guid]::NewGuid().ToString('N'))"
        Set-Item "env:$envName" 'Pester!pw1'
        try {
            @{
                schemaVersion = 1
                environments  = @{
                    sandbox = @{
                        mysql        = @{ server = '127.0.0.1'; port = $Bad.Port; sslMode = 'None'; credential = @{ user = 'ecomdr'; passwordEnv = $envName } }
                        repositories = @{ primary = @{ type = 'filesystem'; path = 'repo' } }
                        keys         = @(@{ type = 'localFile'; path = 'key' })
                    }
                }
            } | ConvertTo-Json -Depth 6 | Set-Content (Join-Path $dir 'ecomdr.json')
            $results = Test-DrPrerequisite -Config (Join-Path $dir 'ecomdr.json')
            @($results | Where-Object Status -eq 'Fail').Check | Should -Be @('LogBin', 'BinlogFormat', 'Privilege.ReplicationSlave', 'Key localFile')
            ($results | Where-Object Check -eq 'Key localFile').Remediation | Should -Match 'New-DrKey'   # no key file yet: a backup would fail
        }
        finally {
            Remove-Item "env:$envName"
            Remove-Item $dir -Recurse -Force
        }
    }

    It 'refuses a wrong password with a terminating AuthenticationError that hides the password' {
        $err = $null
        try { Test-DrPrerequisite -Server 127.0.0.1 -Port $Good.Port -Credential (New-TestCredential 'ecomdr' 'Wr0ng-secret') -SslMode None }
        catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'EcomDr.AuthenticationFailed,*'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.TargetObject | Should -Be "127.0.0.1:$($Good.Port)"
        ($err | Out-String) + $err.Exception.ToString() | Should -Not -Match 'Wr0ng-secret'
    }

    It 'rejects a malformed configuration naming the file and field before connecting' {
        $file = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-bad-$([guid]::NewGuid().ToString('N')).json"
        '{ "schemaVersion": 1, "environments": { "x": { "mysql": { "server": "h", "port": 99999 } } } }' | Set-Content $file
        try {
            { Test-DrPrerequisite -Config $file } | Should -Throw -ErrorId 'EcomDr.ConfigInvalid,EcomDr.Commands.TestDrPrerequisiteCommand'
            try { Test-DrPrerequisite -Config $file } catch { $_.Exception.Message | Should -BeLike "*${file}: environments.x.mysql.port: expected a whole number from 1 to 65535*" }
        }
        finally { Remove-Item $file }
    }

    It 'reports a missing configuration file as ObjectNotFound' {
        $err = $null
        try { Test-DrPrerequisite -Config (Join-Path ([IO.Path]::GetTempPath()) 'no-such-ecomdr.json') } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'EcomDr.ConfigNotFound,*'
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'checks several servers piped in by property name' {
        $results = @([pscustomobject]@{ Server = '127.0.0.1'; Port = $Good.Port }, [pscustomobject]@{ Server = '127.0.0.1'; Port = $Bad.Port }) |
            Test-DrPrerequisite -Credential $Cred -SslMode None
        @($results | Group-Object Server | Sort-Object Name | ForEach-Object { '{0}={1}' -f $_.Name, @($_.Group | Where-Object Status -eq 'Fail').Count }) |
            Should -Be @(@("127.0.0.1:$($Good.Port)=0", "127.0.0.1:$($Bad.Port)=3") | Sort-Object)
    }

    It 'narrates each check with -Verbose' {
        $verbose = Test-DrPrerequisite -Server 127.0.0.1 -Port $Good.Port -Credential $Cred -SslMode None -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $verbose[0].Message | Should -Be "Checking 127.0.0.1:$($Good.Port) as 'ecomdr'."
        @($verbose | Where-Object Message -like 'LogBin: Pass*').Count | Should -Be 1
        ($verbose.Message -join "`n") | Should -Not -Match 'Pester!pw1'
    }

    It 'has a default table view' {
        $results = Test-DrPrerequisite -Server 127.0.0.1 -Port $Good.Port -Credential $Cred -SslMode None
        $text = $results | Out-String -Width 200
        $text | Should -Match 'Check\s+Status\s+Observed\s+Remediation'
        $text | Should -Match "Server: 127.0.0.1:$($Good.Port)"
    }
}
