namespace EcomDr.Engine.Pipeline.Crypto;

/// <summary>
/// An artifact's data key wrapped by one key provider, as stored in the manifest. Provider names are
/// part of the format: "localFile", "rsaOaepSha256"; later "vaultTransit", "awsKms" without change.
/// </summary>
public sealed record WrappedKey(string Provider, string KeyId, string Wrapped);
