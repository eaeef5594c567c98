@{
    RootModule           = 'EcomDr.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '5194cc09-be0c-4b0d-8a04-d30ae71d0b0b'
    Author               = 'EcomDr'
    CompanyName          = 'EcomDr'
    Copyright            = '(c) EcomDr. All rights reserved.'
    Description          = 'Backup, point-in-time recovery and disaster-recovery drills for an e-commerce platform on MySQL 8.4 / MariaDB: native dumps, binlog shipping and replay, encrypted signed repositories, measured RTO/RPO.'
    PowerShellVersion    = '7.4'
    FormatsToProcess     = @('EcomDr.Format.ps1xml')
    CmdletsToExport      = @(
        'Approve-DrRestorePlan'
        'Backup-DrFile'
        'Backup-RedisSnapshot'
        'Backup-VaultSecret'
        'Copy-DrBackup'
        'Expand-DrArtifact'
        'Expand-DrBinlog'
        'Export-GrafanaConfig'
        'Export-DrDrillReport'
        'Find-BinlogEvent'
        'Get-BinlogChain'
        'Get-DrBackup'
        'Get-DrDrillReport'
        'Get-DrFileSet'
        'Get-DrInventory'
        'Get-DrMetric'
        'Get-DrRpoStatus'
        'Get-DrRtoEstimate'
        'Get-RedisSnapshotKey'
        'Invoke-BinlogPurge'
        'Invoke-DrRetention'
        'Invoke-MySqlFullBackup'
        'Invoke-MySqlVolumeSnapshot'
        'New-DrKey'
        'Remove-DrBackup'
        'Restore-DrFile'
        'Restore-GrafanaConfig'
        'Restore-MySqlDatabase'
        'Restore-MySqlPitr'
        'Restore-RedisSnapshot'
        'Restore-VaultSecret'
        'Send-Binlog'
        'Set-DrBackupHold'
        'Start-DrDrill'
        'Switch-MySqlSchema'
        'Sync-VaultSecret'
        'Test-BackupIntegrity'
        'Test-BinlogChain'
        'Test-DrJobLog'
        'Test-DrPrerequisite'
        'Test-MySqlRestore'
        'Update-DrKey'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('Backup', 'DisasterRecovery', 'MySQL', 'MariaDB', 'Binlog', 'PITR', 'Linux', 'Windows')
            ProjectUri = ''
        }
    }
}
