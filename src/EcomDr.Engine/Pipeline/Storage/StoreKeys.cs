using EcomDr.Engine.Errors;

namespace EcomDr.Engine.Pipeline.Storage;

/// <summary>Validation of store keys: '/'-separated, no empty, "." or ".." segments, no backslashes.</summary>
public static class StoreKeys
{
    public static string Validate(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Contains('\\') || key.StartsWith('/') ||
            key.Split('/').Any(s => s.Length == 0 || s == "." || s == ".."))
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, $"'{key}' is not a valid store key.", key);
        }

        return key;
    }
}
