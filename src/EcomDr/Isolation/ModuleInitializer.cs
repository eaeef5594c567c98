using System.Reflection;
using System.Management.Automation;
using System.Runtime.Loader;

namespace EcomDr.Isolation;

/// <summary>
/// Runs when Import-Module loads EcomDr.dll: routes the one assembly the cmdlets reference
/// directly, EcomDr.Engine, into <see cref="ModuleLoadContext"/>. Its own dependencies then
/// resolve inside that context, away from the session's default context.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer
{
    private const string EngineAssemblyName = "EcomDr.Engine";

    public void OnImport() => AssemblyLoadContext.Default.Resolving += ResolveEngine;

    private static Assembly? ResolveEngine(AssemblyLoadContext context, AssemblyName name) =>
        name.Name == EngineAssemblyName ? ModuleLoadContext.Instance.LoadFromAssemblyName(name) : null;
}
