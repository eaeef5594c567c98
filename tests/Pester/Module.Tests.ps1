# The packaged module as a user meets it: manifest, exported cmdlets, help, views, package layout.
BeforeDiscovery {
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:Cmdlets = @(Get-Command -Module EcomDr -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    Import-Module $env:ECOMDR_MODULE_MANIFEST -Force
    $script:ModuleDir = Split-Path $env:ECOMDR_MODULE_MANIFEST
    $script:CommonParameters = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
}

Describe 'Module package' {
    It 'is a valid manifest exporting exactly the cmdlets the assembly defines' {
        $manifest = Test-ModuleManifest $env:ECOMDR_MODULE_MANIFEST
        $manifest.Version.ToString() | Should -Be (Split-Path $ModuleDir -Leaf)
        $exported = (Get-Command -Module EcomDr -CommandType Cmdlet).Name | Sort-Object
        $defined = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'EcomDr' } |
            ForEach-Object { $_.GetTypes() } |
            Where-Object { $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false) } |
            ForEach-Object { $a = $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]; "$($a.VerbName)-$($a.NounName)" } |
            Sort-Object
        $exported | Should -Be $defined
    }

    It 'ships only EcomDr.dll at the top and everything else under Dependencies/' {
        @(Get-ChildItem $ModuleDir -Filter *.dll).Name | Should -Be @('EcomDr.dll')
        (Get-ChildItem (Join-Path $ModuleDir 'Dependencies') -Filter *.dll).Name | Should -Contain 'EcomDr.Engine.dll'
        (Get-ChildItem (Join-Path $ModuleDir 'Dependencies') -Filter *.dll).Name | Should -Contain 'MySqlConnector.dll'
        Test-Path (Join-Path $ModuleDir 'Dependencies/System.Management.Automation.dll') | Should -BeFalse
        Test-Path (Join-Path $ModuleDir 'en-US/EcomDr.dll-help.xml') | Should -BeTrue
    }

    It 'has an Azure Automation zip whose top folder is the module' {
        $zip = Join-Path (Split-Path (Split-Path $ModuleDir)) 'EcomDr.zip'
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $archive = [IO.Compression.ZipFile]::OpenRead($zip)
        try {
            $names = $archive.Entries.FullName -replace '\\', '/'
            $names | Should -Contain 'EcomDr/EcomDr.psd1'
            $names | Should -Contain 'EcomDr/Dependencies/EcomDr.Engine.dll'
            $names | Should -Contain 'EcomDr/en-US/EcomDr.dll-help.xml'
            $names | Should -Contain 'EcomDr/Runbooks/Restore-LogicalDeletion.ps1'
            # Azure Automation's limits on an imported module: paths under 140 characters, the zip under 100 MB.
            $names | Where-Object { $_.Length -ge 140 } | Should -BeNullOrEmpty
            (Get-Item $zip).Length | Should -BeLessThan 100MB
            (Get-Item $zip).BaseName | Should -Be ($names[0] -split '/')[0]
        }
        finally { $archive.Dispose() }
    }

    It 'ships runbooks with comment-based help for every parameter and an example' {
        $runbooks = @(Get-ChildItem (Join-Path $ModuleDir 'Runbooks') -Filter *.ps1)
        $runbooks.Name | Sort-Object | Should -Be @('Invoke-BinlogShipping.ps1', 'Invoke-DailyFullBackup.ps1', 'Invoke-DailyRetention.ps1', 'Invoke-DocsBackup.ps1', 'Invoke-DrDrill.ps1', 'Invoke-FileSetBackup.ps1', 'Invoke-InfraBackup.ps1', 'Invoke-MonthlyPitrDrill.ps1',
            'Invoke-QuarterlyDisasterDrill.ps1', 'Invoke-RedisSnapshot.ps1', 'Invoke-SecretsBackup.ps1', 'Invoke-WeeklyVolumeSnapshot.ps1', 'Restore-InfraConfig.ps1', 'Restore-LogicalDeletion.ps1', 'Restore-TotalDisaster.ps1')
        foreach ($runbook in $runbooks) {
            $help = Get-Help $runbook.FullName -Full
            $help.Synopsis | Should -Not -BeLike "$($runbook.BaseName)*" -Because "$($runbook.Name) needs a synopsis"
            @($help.examples.example).Count | Should -BeGreaterThan 0 -Because "$($runbook.Name) needs an example"
            $command = Get-Command $runbook.FullName
            $command.Parameters.ContainsKey('WhatIf') | Should -BeTrue -Because "$($runbook.Name) changes state and must support -WhatIf"
            foreach ($parameter in $command.Parameters.Keys | Where-Object { $_ -notin $CommonParameters }) {
                (($help.parameters.parameter | Where-Object name -eq $parameter).description.Text -join ' ') | Should -Not -BeNullOrEmpty -Because "$($runbook.Name) -$parameter needs a description"
            }
        }
    }

    It 'uses approved verbs only' {
        $approved = (Get-Verb).Verb
        (Get-Command -Module EcomDr).Verb | Where-Object { $_ -notin $approved } | Should -BeNullOrEmpty
    }
}

Describe 'Help and metadata of <Name>' -ForEach $Cmdlets {
    BeforeAll {
        $script:Command = Get-Command $Name
        $script:Help = Get-Help $Name -Full
    }

    It 'has a synopsis and a description' {
        $Help.Synopsis | Should -Not -BeNullOrEmpty
        $Help.Synopsis | Should -Not -BeLike "$Name *"   # auto-generated help would show the syntax here
        ($Help.description.Text -join ' ') | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter' {
        foreach ($parameter in $Command.Parameters.Keys | Where-Object { $_ -notin $CommonParameters }) {
            $entry = $Help.parameters.parameter | Where-Object name -eq $parameter
            ($entry.description.Text -join ' ') | Should -Not -BeNullOrEmpty -Because "-$parameter needs a description"
        }
    }

    It 'has at least one example with code' {
        @($Help.examples.example).Count | Should -BeGreaterThan 0
        $Help.examples.example[0].code | Should -Not -BeNullOrEmpty
    }

    It 'declares an output type that has a default view' {
        $Command.OutputType.Count | Should -BeGreaterThan 0
        foreach ($type in $Command.OutputType.Name) {
            Get-FormatData -TypeName $type | Should -Not -BeNullOrEmpty -Because "$type needs a view in a .Format.ps1xml"
        }
    }
}
