# EcomDr must work in a session that already holds other versions of the assemblies it ships
# (AWS.Tools brings AWSSDK.Core, other modules bring MySqlConnector). Runs in a fresh pwsh so the
# session's copies are loaded first, as they would be in a real shell.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestKit.ps1')
    $script:Server = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync())
    Wait-Task ($Server.CreateUserAsync('iso', 'Iso!pw42', [string[]]@('SELECT, RELOAD, LOCK TABLES, REPLICATION CLIENT, REPLICATION SLAVE, SHOW VIEW, EVENT, TRIGGER ON *.*')))
    $script:OtherMySqlConnector = Join-Path $env:ECOMDR_NUGET_PACKAGES 'mysqlconnector/2.4.0/lib/net8.0/MySqlConnector.dll'
    $script:OtherAwsCore = Join-Path $env:ECOMDR_NUGET_PACKAGES 'awssdk.core/3.7.402/lib/net8.0/AWSSDK.Core.dll'
    $child = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-iso-$([guid]::NewGuid().ToString('N')).ps1"
    @'
param($MySqlConnectorPath, $AwsCorePath, $Manifest, $Port)
$ErrorActionPreference = 'Stop'
Add-Type -Path $MySqlConnectorPath
Add-Type -Path $AwsCorePath
Import-Module $Manifest
$cred = [pscredential]::new('iso', (ConvertTo-SecureString 'Iso!pw42' -AsPlainText -Force))
$results = Test-DrPrerequisite -Server 127.0.0.1 -Port $Port -Credential $cred -SslMode None
# The session's own copy still works after EcomDr loaded its own.
$sessionBuilder = [MySqlConnector.MySqlConnectionStringBuilder]::new('Server=h;Port=3307')
[pscustomobject]@{
    Checks       = $results.Count
    Failed       = @($results | Where-Object Status -eq 'Fail').Count
    SessionPort  = $sessionBuilder.Port
    AwsCoreType  = [Amazon.Runtime.AmazonServiceException].Assembly.GetName().Version.ToString()
    Assemblies   = @([AppDomain]::CurrentDomain.GetAssemblies() |
        Where-Object { $_.GetName().Name -in 'MySqlConnector', 'EcomDr.Engine', 'EcomDr', 'AWSSDK.Core' } |
        ForEach-Object {
            [pscustomobject]@{
                Name        = $_.GetName().Name
                FileVersion = [Diagnostics.FileVersionInfo]::GetVersionInfo($_.Location).FileVersion
                Context     = [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name
                Location    = $_.Location
            }
        })
} | ConvertTo-Json -Depth 4
'@ | Set-Content $child
    $json = & dotnet pwsh -NoProfile -NonInteractive -File $child $OtherMySqlConnector $OtherAwsCore $env:ECOMDR_MODULE_MANIFEST $Server.Port
    $script:ChildExit = $LASTEXITCODE
    $script:Report = ($json -join "`n") | ConvertFrom-Json
    Remove-Item $child
}

AfterAll {
    if ($Server) { Wait-Task ($Server.DisposeAsync().AsTask()) }
}

Describe 'Assembly isolation' {
    It 'runs Test-DrPrerequisite in a session that loaded MySqlConnector 2.4.0 and AWSSDK.Core 3.7 first' {
        $ChildExit | Should -Be 0
        $Report.Checks | Should -Be 17
        $Report.Failed | Should -Be 0
        $Report.SessionPort | Should -Be 3307
        $Report.AwsCoreType | Should -Match '^3\.3\.'
    }

    It 'serves EcomDr''s engine and MySqlConnector from the EcomDr load context and Dependencies/' {
        $moduleDir = Split-Path $env:ECOMDR_MODULE_MANIFEST
        $engine = @($Report.Assemblies | Where-Object Name -eq 'EcomDr.Engine')
        $engine.Count | Should -Be 1
        $engine[0].Context | Should -Be 'EcomDr'
        $engine[0].Location | Should -Be (Join-Path $moduleDir 'Dependencies/EcomDr.Engine.dll')

        $connectors = @($Report.Assemblies | Where-Object Name -eq 'MySqlConnector')
        $connectors.Count | Should -Be 2
        $ours = $connectors | Where-Object Context -eq 'EcomDr'
        $ours.Location | Should -Be (Join-Path $moduleDir 'Dependencies/MySqlConnector.dll')
        $ours.FileVersion | Should -BeLike '2.6.2*'
        $theirs = $connectors | Where-Object Context -ne 'EcomDr'
        $theirs.Location | Should -Be $OtherMySqlConnector
        $theirs.FileVersion | Should -BeLike '2.4.0*'

        ($Report.Assemblies | Where-Object Name -eq 'EcomDr').Context | Should -Not -Be 'EcomDr'
    }
}
