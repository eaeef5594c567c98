# The README's main job: the demo on embedded defaults runs to its end. It ran only by hand before, and
# broke unseen when the key became a prerequisite; this runs it as build.ps1 demo does, in a fresh pwsh.
Describe 'The demo' {
    It 'runs to its end: prerequisites pass, backups restore, the drill passes and writes its report' {
        $pwsh = [Environment]::ProcessPath
        # Under "dotnet pwsh" the process is dotnet: run pwsh.dll as an installed pwsh would.
        $prefix = @(if ([IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
        $demo = Join-Path $PSScriptRoot '../../demo/Start-Demo.ps1'
        $report = Join-Path $PSScriptRoot '../../out/demo/drill-pitr.md'
        Remove-Item $report -ErrorAction Ignore
        $output = & $pwsh @prefix -NoProfile -NonInteractive -File $demo -ModuleManifest $env:ECOMDR_MODULE_MANIFEST -TestKitFolder $env:ECOMDR_TESTKIT_FOLDER 2>&1 |
            ForEach-Object { "$_" }
        $text = $output -join "`n"
        $LASTEXITCODE | Should -Be 0 -Because $text
        $text | Should -Match '### Demo finished: prerequisites pass'
        $text | Should -Not -Match '(?m)^FAIL '
        Get-Content $report -Raw | Should -Match 'PASS'
    }
}
