using EcomDr.Engine.Errors;
using EcomDr.Engine.Sources.MySql.Validation;

namespace EcomDr.Engine.Tests.Sources.MySql.Validation;

/// <summary>The head revision(s) of Alembic migration folders, as Alembic's own files write them.</summary>
public sealed class AlembicHeadsTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ecomdr-alembic-" + Guid.NewGuid().ToString("N"));

    public AlembicHeadsTests() => Directory.CreateDirectory(Path.Combine(_folder, "versions"));

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private void Revision(string file, string text) => File.WriteAllText(Path.Combine(_folder, "versions", file), text);

    [Fact]
    public void TheHeadIsTheRevisionNoOtherRevisesAcrossFileStyles()
    {
        Revision("a_base.py", "\"\"\"base\n\nRevision ID: aaa\n\"\"\"\nrevision = 'aaa'\ndown_revision = None\n");
        Revision("b_next.py", "revision: str = \"bbb\"\ndown_revision: Union[str, None] = \"aaa\"\n");
        Revision("c_head.py", "# comment: revision = 'zzz'\nrevision = 'ccc'\ndown_revision = 'bbb'\nbranch_labels = None\n");
        File.WriteAllText(Path.Combine(_folder, "env.py"), "revision = 'not-a-migration'\n");
        Assert.Equal(new[] { "ccc" }, AlembicHeads.FromFolder(_folder));
    }

    [Fact]
    public void BranchesGiveTwoHeadsAndAMergeJoinsThem()
    {
        Revision("a.py", "revision = 'aaa'\ndown_revision = None\n");
        Revision("b.py", "revision = 'bbb'\ndown_revision = 'aaa'\n");
        Revision("c.py", "revision = 'ccc'\ndown_revision = 'aaa'\n");
        Assert.Equal(new[] { "bbb", "ccc" }, AlembicHeads.FromFolder(_folder));
        Revision("d.py", "revision = 'ddd'\ndown_revision = ('bbb', 'ccc')\n");
        Assert.Equal(new[] { "ddd" }, AlembicHeads.FromFolder(Path.Combine(_folder, "versions")));
    }

    [Fact]
    public void AFolderWithoutRevisionsIsRefused()
    {
        var ex = Assert.Throws<EcomDrException>(() => AlembicHeads.FromFolder(_folder));
        Assert.Equal(ErrorIds.MigrationsInvalid, ex.ErrorId);
        Assert.Equal(ErrorIds.MigrationsInvalid, Assert.Throws<EcomDrException>(() => AlembicHeads.FromFolder(_folder + "-missing")).ErrorId);
    }
}
