# Loads the shared test kit (real MariaDB/Redis/s3rver harness and the sample shop) into the session.
# The kit and its MySqlConnector land in the default load context; EcomDr keeps its own copies.
foreach ($dll in 'Microsoft.Extensions.Logging.Abstractions.dll', 'MySqlConnector.dll', 'EcomDr.TestKit.dll') {
    $path = Join-Path $env:ECOMDR_TESTKIT_FOLDER $dll
    $name = [IO.Path]::GetFileNameWithoutExtension($dll)
    if (-not ([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq $name -and $_.Location -eq $path })) {
        Add-Type -Path $path
    }
}

# Waits for a .NET task; a Task without a result yields nothing (not its internal VoidTaskResult).
function Wait-Task($Task) {
    $result = $Task.GetAwaiter().GetResult()
    if ($null -ne $result -and $result.GetType().Name -ne 'VoidTaskResult') { $result }
}

function New-TestCredential([string] $User, [string] $Password) {
    [pscredential]::new($User, (ConvertTo-SecureString $Password -AsPlainText -Force))
}
