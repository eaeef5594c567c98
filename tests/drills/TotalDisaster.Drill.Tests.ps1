# The quarterly total-disaster drill: the primary site is gone; a fresh server is restored only from
# the offsite store, up to the newest shipped transaction. Then the same drill with a corrupted
# artifact and with a missing binlog segment, each failing on its own checklist line.
BeforeAll {
    . (Join-Path $PSScriptRoot 'DrillKit.ps1')
    $script:Drill = Initialize-DrillEnvironment
    $script:Splat = @{ Config = $Drill.Config }
    if ($Drill.Environment) { $Splat.Environment = $Drill.Environment }
    $script:Report = Start-DrDrill TotalDisaster -Sandbox @Splat
}

AfterAll { Remove-DrillEnvironment $Drill }

Describe 'Quarterly total-disaster drill' {
    It 'passes from the offsite store alone, everything shipped restored' {
        foreach ($check in $Report.Checks) { $check.Passed | Should -BeTrue -Because "$($check.Name): $($check.Evidence)" }
        $Report.Checks.Name | Should -Be (Get-ExpectedChecks $Drill)
        $Report.Passed | Should -BeTrue
        $Report.Store | Should -Be 'offsite'
        ($Report.Checks | Where-Object Name -eq 'Artifacts present').Evidence | Should -Match 'offsite'
        ($Report.Checks | Where-Object Name -eq 'Replay').Evidence | Should -Match 'stopped: end of the shipped binlog'
        $Report.RpoSeconds | Should -BeLessOrEqual $Report.RpoObjectiveSeconds
        (Get-DrDrillReport TotalDisaster @Splat -Store offsite -Last 1).Id | Should -Be $Report.Id
    }
}

Describe 'A drill on a damaged repository fails on the right line' -Skip:([bool]$env:ECOMDR_DRILL_CONFIG) {
    # (Skipped against a real environment: these damage a copy of the sandbox's own offsite store.)
    BeforeAll {
        function Copy-Offsite([string] $Name) {
            $copy = Join-Path $Drill.Root $Name
            Copy-Item (Join-Path $Drill.Root 'offsite') $copy -Recurse
            $copy
        }
    }

    It 'fails "Artifact integrity" when a data chunk of the full backup was altered (one flipped bit)' {
        $repo = Copy-Offsite 'offsite-corrupt'
        $chunk = Get-ChildItem $repo -Recurse -File | Where-Object { $_.FullName -match 'mysql-full' -and $_.Name -like '*.edr' } | Sort-Object Length -Descending | Select-Object -First 1
        $bytes = [IO.File]::ReadAllBytes($chunk.FullName)
        $bytes[[int]($bytes.Length / 2)] = $bytes[[int]($bytes.Length / 2)] -bxor 0x10
        [IO.File]::WriteAllBytes($chunk.FullName, $bytes)
        $failed = Start-DrDrill TotalDisaster -Sandbox @Splat -Repository $repo -NoSave
        $failed.Passed | Should -BeFalse
        $failed.Verdict | Should -Be 'FAILED'
        ($failed.Checks | Where-Object Name -eq 'Artifacts present').Passed | Should -BeTrue -Because 'the object is there, at its size'
        $integrity = $failed.Checks | Where-Object Name -eq 'Artifact integrity'
        $integrity.Passed | Should -BeFalse
        $integrity.Evidence | Should -Match "Artifact 'data/ecommerce/[^']+': (stored SHA-256|.*authentic)"
        ($failed.Checks | Where-Object Name -eq 'RTO within objective').Evidence | Should -Match 'no validated restore'
        $failed.Checks.Name | Should -Not -Contain 'Probe healthz'
    }

    It 'fails "Binlog chain continuous" before touching any server when a shipped segment is missing' {
        $repo = Copy-Offsite 'offsite-gap'
        $segments = @(Get-ChildItem (Join-Path $repo 'shop/mysql-binlog') -Directory | Sort-Object Name)
        $segments.Count | Should -BeGreaterThan 2
        Remove-Item $segments[1].FullName -Recurse -Force
        $failed = Start-DrDrill TotalDisaster -Sandbox @Splat -Repository $repo -NoSave
        $failed.Passed | Should -BeFalse
        $chain = $failed.Checks | Where-Object Name -eq 'Binlog chain continuous'
        $chain.Passed | Should -BeFalse
        $chain.Evidence | Should -Match 'not continuous'
        $failed.Target | Should -Be 'sandbox' -Because 'no sandbox was started for a recovery that cannot succeed'
        $failed.Phases.Name | Should -Be @('locate')
    }
}
