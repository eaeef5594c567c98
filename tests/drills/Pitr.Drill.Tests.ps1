# The monthly PITR drill: full backup + binlog to a point in time, into a sandbox, validated and
# probed, RTO and RPO measured against the objectives. Runs against a real environment when
# ECOMDR_DRILL_CONFIG names its configuration (see DrillKit.ps1).
BeforeAll {
    . (Join-Path $PSScriptRoot 'DrillKit.ps1')
    $script:Drill = Initialize-DrillEnvironment
    $script:Splat = @{ Config = $Drill.Config }
    if ($Drill.Environment) { $Splat.Environment = $Drill.Environment }
    $point = if ($Drill.ReferencePoint) { @{ ReferencePoint = $Drill.ReferencePoint } } else { @{} }
    $script:Report = Start-DrDrill Pitr -Sandbox @Splat @point
}

AfterAll { Remove-DrillEnvironment $Drill }

Describe 'Monthly PITR drill' {
    It 'passes, with every checklist line passing and its evidence' {
        $Report.GetType().FullName | Should -Be 'EcomDr.Engine.Operations.Drills.DrillReport'
        foreach ($check in $Report.Checks) { $check.Passed | Should -BeTrue -Because "$($check.Name): $($check.Evidence)" }
        $Report.Checks.Name | Should -Be (Get-ExpectedChecks $Drill)
        $Report.Passed | Should -BeTrue
        $Report.Verdict | Should -Be 'PASSED'
        $Report.Kind | Should -Be 'Pitr'
        $Report.Store | Should -Be 'primary'
        $Report.Target | Should -Match '^sandbox MariaDB 127\.0\.0\.1:\d+'
    }

    It 'measures RTO phase by phase and the RPO against the reference point' {
        $Report.Phases.Name | Should -Be (@('locate', 'verify', 'target', 'download + full restore', 'check restored backup', 'download + replay', 'validate') + $(if ($Drill.Live) { @() } else { @('probes') }))
        ($Report.Phases | Measure-Object Seconds -Sum).Sum | Should -BeLessOrEqual ($Report.RtoSeconds + 0.1)
        $Report.RtoSeconds | Should -BeLessOrEqual $Report.RtoObjectiveSeconds
        $Report.LastRestoredCommit | Should -BeLessOrEqual $Report.ReferencePoint
        $Report.RpoSeconds | Should -Be ([Math]::Round(($Report.ReferencePoint - $Report.LastRestoredCommit).TotalSeconds, 1))
        if (-not $Drill.Live) {
            $Report.RpoSeconds | Should -BeLessThan 2 -Because 'the shop committed several transactions a second up to the reference point, and all of them were shipped'
            ($Report.Checks | Where-Object Name -eq 'Probe healthz').Evidence | Should -Match '200 in \d+ ms.*"orders":\d+'
        }
    }

    It 'stores the report in the repository and exports it for people and machines' {
        $stored = @(Get-DrDrillReport Pitr @Splat -Last 1)
        $stored.Count | Should -Be 1
        $stored[0].Id | Should -Be $Report.Id
        $stored[0].Checks.Count | Should -Be $Report.Checks.Count
        $folder = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-drill-report-$([guid]::NewGuid().ToString('N'))"
        New-Item -ItemType Directory $folder | Out-Null
        try {
            $md = $Report | Export-DrDrillReport (Join-Path $folder 'drill.md')
            $text = Get-Content $md -Raw
            $text | Should -Match '^# DR drill Pitr: PASSED'
            $text.IndexOf('## Phases') | Should -BeLessThan $text.IndexOf('## Checklist')
            $text | Should -Match '\| download \+ full restore \| [\d.]+ \| `#+` \|'
            $json = $Report | Export-DrDrillReport (Join-Path $folder 'drill.json') -Format Json
            (Get-Content $json -Raw | ConvertFrom-Json).checks.Count | Should -Be $Report.Checks.Count
            $html = $Report | Export-DrDrillReport (Join-Path $folder 'drill.html') -Format Html
            Get-Content $html -Raw | Should -Match '<h1 style="color:#1a7f37">DR drill Pitr: PASSED</h1>'
            $Report | Export-DrDrillReport (Join-Path $folder 'whatif.md') -WhatIf
            Test-Path (Join-Path $folder 'whatif.md') | Should -BeFalse
        }
        finally { Remove-Item $folder -Recurse -Force }
    }

    It 'records the sizes it restored for the RTO model, which predicts the next drill and the recovery to now' {
        $Report.FullRestoreBytes | Should -Be (Get-DrBackup -Id $Report.BackupId @Splat).Size
        $Report.ReplayBytes | Should -BeGreaterThan 0
        $estimate = Get-DrRtoEstimate @Splat
        $estimate.BasedOnDrill | Should -Be $Report.Id
        $estimate.BackupId | Should -Be (Get-DrBackup mysql-full @Splat -Latest).Id
        $estimate.FullBytes | Should -Be (Get-DrBackup mysql-full @Splat -Latest).Size
        $full = ($Report.Phases | Where-Object Name -eq 'download + full restore').Seconds
        $estimate.FullRestoreSeconds | Should -Be ([Math]::Round($estimate.FullBytes / ($Report.FullRestoreBytes / $full), 1))
        $estimate.PredictedSeconds | Should -BeGreaterThan 0
        $estimate.ObjectiveSeconds | Should -Be $Report.RtoObjectiveSeconds
        ($estimate.Share) | Should -Be ($estimate.PredictedSeconds / $estimate.ObjectiveSeconds)

        # The next drill carries the model's prediction for itself, beside what it measured.
        $next = Start-DrDrill Pitr -Sandbox @Splat
        $next.PredictedRtoSeconds | Should -BeGreaterThan 0
        $path = Join-Path ([IO.Path]::GetTempPath()) "ecomdr-next-$([guid]::NewGuid().ToString('N')).md"
        try {
            $md = $next | Export-DrDrillReport $path
            Get-Content $md -Raw | Should -Match '\*\*Predicted RTO\*\* .* measured '
        }
        finally { Remove-Item $path -ErrorAction Ignore }
    }
}
