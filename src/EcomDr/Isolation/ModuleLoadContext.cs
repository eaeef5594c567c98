using System.Reflection;
using System.Runtime.Loader;

namespace EcomDr.Isolation;

/// <summary>
/// The module's own load context. EcomDr.Engine and every third-party assembly it needs
/// (MySqlConnector, ...) load here from the Dependencies folder, so a different version of the
/// same assembly already in the session (AWS.Tools, Az, SqlServer, ...) neither breaks EcomDr nor
/// is broken by it. Bridge pattern of "Resolving PowerShell module assembly dependency conflicts".
/// </summary>
internal sealed class ModuleLoadContext : AssemblyLoadContext
{
    public const string ContextName = "EcomDr";

    private readonly string _dependencyDirectory;

    private ModuleLoadContext(string dependencyDirectory)
        : base(ContextName, isCollectible: false)
    {
        _dependencyDirectory = dependencyDirectory;
    }

    public static ModuleLoadContext Instance { get; } = new(Path.Join(
        Path.GetDirectoryName(typeof(ModuleLoadContext).Assembly.Location)!, "Dependencies"));

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        // Anything not shipped in Dependencies (the framework, PowerShell itself) comes from the default context.
        var path = Path.Join(_dependencyDirectory, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }
}
