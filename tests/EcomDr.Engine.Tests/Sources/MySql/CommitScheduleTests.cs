using EcomDr.Engine.Sources.MySql.Binlog;
using EcomDr.Engine.Sources.MySql.Pitr;

namespace EcomDr.Engine.Tests.Sources.MySql;

/// <summary>Which earlier transaction a parallel replay transaction waits for (the decision, not the workers).</summary>
public sealed class CommitScheduleTests
{
    private static BinlogTransaction MariaDb(ulong sequence, ulong? commitId, byte flags = 0x08 | 0x02) =>
        new("binlog.000001", 100 + (long)sequence, new GtidInfo($"0-1-{sequence}", false, Domain: 0, Sequence: sequence, Flags: commitId is null ? (byte)0x08 : flags, CommitId: commitId),
            true, ReadOnlyMemory<byte>.Empty, 1 << 20);

    private static BinlogTransaction MySql(string file, long lastCommitted, long sequenceNumber) =>
        new(file, 100 + sequenceNumber, new GtidInfo($"3e11fa47-71ca-11e1-9e33-c80aa9429562:{sequenceNumber}", false, lastCommitted, sequenceNumber), false,
            ReadOnlyMemory<byte>.Empty, 1 << 20);

    private static WriteSet Writes(ulong[] rows, string[] tables, string[]? whole = null)
    {
        var set = new WriteSet();
        set.Rows.UnionWith(rows);
        set.Tables.UnionWith(tables.Select(WriteSet.TableHash));
        set.WholeTables.UnionWith((whole ?? Array.Empty<string>()).Select(WriteSet.TableHash));
        set.Tables.UnionWith(set.WholeTables);
        return set;
    }

    [Fact]
    public void DisjointWritesetsRunTogetherAndASharedKeyWaitsForItsLastWriter()
    {
        var schedule = new CommitSchedule();
        Assert.Equal(0, schedule.After(1, Writes(new[] { 1UL }, new[] { "s.t" }), MariaDb(1, null)).After);
        Assert.Equal(0, schedule.After(2, Writes(new[] { 2UL }, new[] { "s.t" }), MariaDb(2, null)).After);
        Assert.Equal(2, schedule.After(3, Writes(new[] { 2UL, 3UL }, new[] { "s.t" }), MariaDb(3, null)).After);
        Assert.Equal(1, schedule.After(4, Writes(new[] { 1UL, 9UL }, new[] { "s.t" }), MariaDb(4, null)).After);
    }

    [Fact]
    public void ATableHeldWholeConflictsWithEveryTransactionTouchingIt()
    {
        var schedule = new CommitSchedule();
        Assert.Equal(0, schedule.After(1, Writes(new[] { 1UL }, new[] { "s.t" }), MariaDb(1, null)).After);
        Assert.Equal(0, schedule.After(2, Writes(new[] { 5UL }, new[] { "s.u" }), MariaDb(2, null)).After);
        Assert.Equal(1, schedule.After(3, Writes(Array.Empty<ulong>(), new[] { "s.t" }, whole: new[] { "s.t" }), MariaDb(3, null)).After);
        Assert.Equal(3, schedule.After(4, Writes(new[] { 7UL }, new[] { "s.t" }), MariaDb(4, null)).After);
        Assert.Equal(2, schedule.After(5, Writes(new[] { 5UL }, new[] { "s.u" }), MariaDb(5, null)).After);
    }

    [Fact]
    public void MariaDbGroupCommitMembersRunTogetherUnlessFlaggedAsHavingWaited()
    {
        var schedule = new CommitSchedule();
        var hot = Writes(new[] { 42UL }, new[] { "s.t" });
        Assert.Equal(0, schedule.After(1, hot, MariaDb(10, 500)).After);
        // Same key, same group: the source committed them together, so they held no conflicting locks.
        Assert.Equal(0, schedule.After(2, hot, MariaDb(11, 500)).After);
        // Same group, but the source says it waited for a lock: the writeset decides.
        Assert.Equal(2, schedule.After(3, hot, MariaDb(12, 500, flags: 0x08 | 0x02 | 0x10)).After);
        // A new group depends on everything before it.
        Assert.Equal(3, schedule.After(4, hot, MariaDb(13, 501)).After);
    }

    [Fact]
    public void MySqlLastCommittedReleasesATransactionWithinItsFileOnly()
    {
        var schedule = new CommitSchedule();
        var hot = Writes(new[] { 42UL }, new[] { "s.t" });
        Assert.Equal(0, schedule.After(1, hot, MySql("binlog.000001", 0, 1)).After);
        Assert.Equal(1, schedule.After(2, hot, MySql("binlog.000001", 1, 2)).After);
        // last_committed 1: independent of 2 and 3 by the source's clock, though the keys say otherwise.
        Assert.Equal(1, schedule.After(3, hot, MySql("binlog.000001", 1, 3)).After);
        Assert.Equal(1, schedule.After(4, hot, MySql("binlog.000001", 1, 4)).After);
        // A new file numbers again from 1: nothing of the old file's clock applies, the writeset decides.
        Assert.Equal(4, schedule.After(5, hot, MySql("binlog.000002", 0, 1)).After);
    }

    [Fact]
    public void AConflictInsideTheBatchBeingGatheredIsToldApart()
    {
        var schedule = new CommitSchedule();
        Assert.Equal((0L, false), schedule.After(1, Writes(new[] { 1UL }, new[] { "s.t" }), MariaDb(1, null)));
        // Batch 2 gathers two transactions on key 2, the second also on key 1 (batch 1).
        Assert.Equal((0L, false), schedule.After(2, Writes(new[] { 2UL }, new[] { "s.t" }), MariaDb(2, null)));
        Assert.Equal((1L, true), schedule.After(2, Writes(new[] { 2UL, 1UL }, new[] { "s.t" }), MariaDb(3, null)));
    }

    [Fact]
    public void AGroupOrFileStartedInABatchWithEarlierTransactionsWaitsForThatBatch()
    {
        var schedule = new CommitSchedule();
        var a = Writes(new[] { 1UL }, new[] { "s.t" });
        var b = Writes(new[] { 2UL }, new[] { "s.u" });
        // Batch 1: a transaction of an earlier group, then the first of group 600; the next of group 600 lands in batch 2.
        Assert.Equal(0, schedule.After(1, a, MariaDb(1, 599)).After);
        Assert.Equal(0, schedule.After(1, b, MariaDb(2, 600)).After);
        Assert.Equal(1, schedule.After(2, Writes(new[] { 1UL }, new[] { "s.t" }), MariaDb(3, 600)).After);

        // The same with MySQL: a new file starts inside batch 1, its next transaction (last_committed 0) is in batch 2.
        var mysql = new CommitSchedule();
        Assert.Equal(0, mysql.After(1, a, MySql("binlog.000001", 0, 7)).After);
        Assert.Equal(0, mysql.After(1, b, MySql("binlog.000002", 0, 1)).After);
        Assert.Equal(1, mysql.After(2, Writes(new[] { 1UL }, new[] { "s.t" }), MySql("binlog.000002", 0, 2)).After);
    }

    [Fact]
    public void ABarrierForgetsEverythingBeforeIt()
    {
        var schedule = new CommitSchedule();
        var hot = Writes(new[] { 42UL }, new[] { "s.t" });
        Assert.Equal(0, schedule.After(1, hot, MariaDb(1, null)).After);
        schedule.Barrier();
        Assert.Equal(0, schedule.After(2, hot, MariaDb(2, null)).After);
    }

    [Theory]
    [InlineData("Müller", "MULLER")]
    [InlineData("müller  ", "MULLER")]
    [InlineData("Straße", "STRASSE")]
    [InlineData("ÉCOLE", "ECOLE")]
    public void CollatedTextFoldsAsACaseAndAccentInsensitiveCollationComparesIt(string value, string folded) =>
        Assert.Equal(folded, System.Text.Encoding.UTF8.GetString(WriteSet.Fold(System.Text.Encoding.UTF8.GetBytes(value))));
}
