# EcomDr must work in a session that already holds other versions of the assemblies it ships
# (AWS.Tools brings AWSSDK.Core, other modules bring MySqlConnector). Runs in a fresh pwsh so the
# session's copies are loaded first, as they would be in a real shell.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestKit.ps1')
    $script:Server = Wait-Task ([EcomDr.TestKit.Servers.MariaDbServer]::StartAsync())
    $script:S3 = Wait-Task ([EcomDr.TestKit.Servers.S3rverServer]::StartAsync([string[]]@('isolation')))
    Wait-Task ($Server.CreateUserAsync('iso', 'Iso!pw42', [string[]]@('SELECT, RELOAD, LOCK TABLES, REPLICATION CLIENT, REPLICATION SLAVE, SHOW VIEW, EVENT, TRIGGER ON *.*')))
    $script:OtherMySqlConnector = Join-Path $env:ECOMDR_NUGET_PACKAGES 'mysqlconnector/2.4.0/lib/net8.0/MySqlConnector.dll'
    $script:OtherAwsCore = Join-Path $env:ECOMDR_NUGET_PACKAGES 'awssdk.core/3.7.402/lib/net8.0/AWSSDK.Core.dll'
    $child = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-iso-$([guid]::NewGuid().ToString('N')).ps1"
    @'
param($MySqlConnectorPath, $AwsCorePath, $Manifest, $Port, $S3Endpoint, $Scratch)
$ErrorActionPreference = 'Stop'
Add-Type -Path $MySqlConnectorPath
Add-Type -Path $AwsCorePath
Import-Module $Manifest
$cred = [pscredential]::new('iso', (ConvertTo-SecureString 'Iso!pw42' -AsPlainText -Force))
$results = Test-DrPrerequisite -Server 127.0.0.1 -Port $Port -Credential $cred -SslMode None
# EcomDr's AWSSDK 4.1 serves an S3 backup while the session holds AWSSDK.Core 3.7.
$env:AWS_ENDPOINT_URL_S3 = $S3Endpoint; $env:AWS_ACCESS_KEY_ID = 'S3RVER'; $env:AWS_SECRET_ACCESS_KEY = 'S3RVER'; $env:AWS_REGION = 'us-east-1'
$null = New-DrKey -Path (Join-Path $Scratch 'iso.key')
Set-Content (Join-Path $Scratch 'note.txt') 'isolated'
$backup = Backup-DrFile -Path (Join-Path $Scratch 'note.txt') -Kind docs -Repository 's3://isolation/ecomdr' -KeyFile (Join-Path $Scratch 'iso.key')
$verified = Test-BackupIntegrity $backup.Id -Repository 's3://isolation/ecomdr' -KeyFile (Join-Path $Scratch 'iso.key') -Deep
# The session's own copy still works after EcomDr loaded its own.
$sessionBuilder = [MySqlConnector.MySqlConnectionStringBuilder]::new('Server=h;Port=3307')
[pscustomobject]@{
    Checks       = $results.Count
    Failed       = @($results | Where-Object Status -eq 'Fail').Count
    SessionPort  = $sessionBuilder.Port
    AwsCoreType  = [Amazon.Runtime.AmazonServiceException].Assembly.GetName().Version.ToString()
    S3Backup     = "$($backup.Location) $($verified.Status)"
    Assemblies   = @([AppDomain]::CurrentDomain.GetAssemblies() |
        Where-Object { $_.GetName().Name -in 'MySqlConnector', 'EcomDr.Engine', 'EcomDr', 'AWSSDK.Core', 'AWSSDK.S3' } |
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
    $scratch = New-Item -ItemType Directory (Join-Path ([IO.Path]::GetTempPath()) "ecomdr-iso-$([guid]::NewGuid().ToString('N'))")
    $json = & dotnet pwsh -NoProfile -NonInteractive -File $child $OtherMySqlConnector $OtherAwsCore $env:ECOMDR_MODULE_MANIFEST $Server.Port $S3.Endpoint $scratch.FullName
    Remove-Item $scratch -Recurse -Force
    $script:ChildExit = $LASTEXITCODE
    $script:Report = ($json -join "`n") | ConvertFrom-Json
    Remove-Item $child
}

AfterAll {
    if ($Server) { Wait-Task ($Server.DisposeAsync().AsTask()) }
    if ($S3) { Wait-Task ($S3.DisposeAsync().AsTask()) }
}

Describe 'Assembly isolation' {
    It 'runs Test-DrPrerequisite in a session that loaded MySqlConnector 2.4.0 and AWSSDK.Core 3.7 first' {
        $ChildExit | Should -Be 0
        $Report.Checks | Should -Be 17
        $Report.Failed | Should -Be 0
        $Report.SessionPort | Should -Be 3307
        $Report.AwsCoreType | Should -Match '^3\.3\.'
        $Report.S3Backup | Should -Be 's3://isolation/ecomdr/ Passed'
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

        $aws = @($Report.Assemblies | Where-Object Name -eq 'AWSSDK.Core')
        $aws.Count | Should -Be 2
        ($aws | Where-Object Context -eq 'EcomDr').Location | Should -Be (Join-Path $moduleDir 'Dependencies/AWSSDK.Core.dll')
        ($aws | Where-Object Context -eq 'EcomDr').FileVersion | Should -BeLike '4.*'
        ($aws | Where-Object Context -ne 'EcomDr').FileVersion | Should -BeLike '3.7.*'
        ($Report.Assemblies | Where-Object Name -eq 'AWSSDK.S3').Context | Should -Be 'EcomDr'
    }
}
