using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EcomDr.Engine.Errors;
using EcomDr.Engine.Pipeline.Crypto;

namespace EcomDr.Engine.Operations.Approvals;

/// <summary>
/// A person's key for approving restore plans (New-DrKey -Approver): an ECDSA P-256 key in an owner-only
/// file, with the approver's name, and its public half beside it (&lt;path&gt;.pub.pem) to list in the
/// configuration's restore.approvers. It signs plan digests only; it opens no backup.
/// </summary>
public sealed class ApproverKey : IDisposable
{
    public const string FileType = "ecomdr-approver-key";
    private readonly ECDsa _key;

    private ApproverKey(string path, string name, ECDsa key, DateTimeOffset created)
    {
        Path = path;
        Name = name;
        _key = key;
        Created = created;
        KeyId = PublicSigningKey.IdOf(key);
    }

    public string Path { get; }

    public string PublicKeyPath => Path + ".pub.pem";

    /// <summary>The approver's login name: a plan written by that login cannot be approved with this key.</summary>
    public string Name { get; }

    public string KeyId { get; }

    public DateTimeOffset Created { get; }

    public string PublicKeyPem => PemEncoding.WriteString("PUBLIC KEY", _key.ExportSubjectPublicKeyInfo());

    public static ApproverKey Create(string path, string name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new EcomDrException(ErrorIds.InvalidArgument, FailureKind.InvalidArgument, "An approver key needs the approver's name (their login).", "Name");
        }

        if (File.Exists(path))
        {
            throw new EcomDrException(ErrorIds.KeyExists, FailureKind.ResourceExists, $"{path} exists already: an approver key is never overwritten.", path);
        }

        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var created = DateTimeOffset.UtcNow;
        var json = new JsonObject
        {
            ["type"] = FileType,
            ["name"] = name,
            ["created"] = created.ToString("O", CultureInfo.InvariantCulture),
            ["privateKey"] = Convert.ToBase64String(key.ExportPkcs8PrivateKey()),
        };
        var bytes = Encoding.UTF8.GetBytes(json.ToJsonString() + "\n");
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
            KeyFilePermissions.WriteNew(path, bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }

        var approver = new ApproverKey(path, name, key, created);
        File.WriteAllText(approver.PublicKeyPath, approver.PublicKeyPem + "\n");
        return approver;
    }

    public static ApproverKey Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new EcomDrException(ErrorIds.KeyNotFound, FailureKind.ObjectNotFound, $"No approver key at {path} (New-DrKey -Approver makes one).", path);
        }

        var bytes = KeyFilePermissions.ReadSecret(path);
        try
        {
            var json = JsonNode.Parse(bytes)?.AsObject();
            if ((string?)json?["type"] != FileType)
            {
                throw new EcomDrException(ErrorIds.KeyNotFound, FailureKind.InvalidData, $"{path} is not an approver key (New-DrKey -Approver makes one).", path);
            }

            var key = ECDsa.Create();
            key.ImportPkcs8PrivateKey(Convert.FromBase64String((string)json!["privateKey"]!), out _);
            return new ApproverKey(path, (string)json["name"]!, key, DateTimeOffset.Parse((string)json["created"]!, CultureInfo.InvariantCulture));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    public byte[] Sign(byte[] data) => _key.SignData(data, HashAlgorithmName.SHA256);

    public void Dispose() => _key.Dispose();
}
