namespace EcomDr.TestKit.Differential;

/// <summary>
/// One step of the corpus: statements run together on one connection. <see cref="WritesOutside"/>
/// marks a step whose statements write only outside the restored schema while naming it: replay must
/// leave it out and record it.
/// </summary>
public sealed record CorpusStep(string Name, string Sql, bool WritesOutside = false);

/// <summary>
/// Statements real shops and admins run, in the forms the server's own test suites use, against a
/// restored schema `shop` beside another schema `other` on the same server. Each step is followed by
/// a checkpoint; point-in-time recovery to any checkpoint must give `shop` exactly as the server had
/// it there and leave every other schema alone. What is expected is never written here: it is what
/// the server holds at each checkpoint.
/// </summary>
public static class StatementCorpus
{
    public const string Schema = "shop";
    public const string Other = "other";

    /// <summary>Both schemas before the backup (which holds `shop` only).</summary>
    public const string Setup = """
        CREATE DATABASE shop; CREATE DATABASE other;
        CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(60), n INT NOT NULL DEFAULT 0);
        CREATE TABLE shop.audit (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(80));
        CREATE TABLE shop.a (id INT PRIMARY KEY); CREATE TABLE shop.b (id INT PRIMARY KEY);
        CREATE TABLE other.src (id INT PRIMARY KEY, v VARCHAR(60));
        CREATE TABLE other.t (id INT PRIMARY KEY, v VARCHAR(60), n INT NOT NULL DEFAULT 0);
        CREATE TABLE other.audit (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(80));
        CREATE TABLE other.parent (id INT PRIMARY KEY);
        CREATE TABLE other.child (id INT AUTO_INCREMENT PRIMARY KEY, parent INT NOT NULL, note VARCHAR(30) COMMENT 'why',
          CONSTRAINT fk_parent FOREIGN KEY (parent) REFERENCES other.parent (id), UNIQUE KEY by_note (note, parent)) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;
        INSERT INTO shop.t VALUES (1, 'one', 1), (2, 'two', 2), (3, 'three', 3), (50, 'fifty', 50);
        INSERT INTO other.src VALUES (1, 's1'), (2, 's2'), (50, 's50');
        INSERT INTO other.t VALUES (1, 'o1', 0), (2, 'o2', 0);
        INSERT INTO shop.a VALUES (1); INSERT INTO shop.b VALUES (1);
        """;

    /// <summary>The steps; <paramref name="csvPath"/> is a file the server can read, which <see cref="CsvContent"/> fills.</summary>
    public static IReadOnlyList<CorpusStep> Steps(string csvPath) => new CorpusStep[]
    {
        new("CREATE TABLE ... SELECT inside", "CREATE TABLE shop.c AS SELECT id, v FROM shop.t"),
        new("CREATE TABLE ... SELECT, MyISAM", "CREATE TABLE shop.c2 ENGINE=MyISAM SELECT * FROM shop.t WHERE id > 1"),
        new("DROP TABLE right after a CREATE TABLE ... SELECT", "DROP TABLE shop.c2"),
        new("CREATE TABLE ... SELECT reading another schema", "CREATE TABLE shop.fromother AS SELECT * FROM other.src"),
        new("CREATE TABLE ... LIKE inside", "CREATE TABLE shop.l LIKE shop.t"),
        new("CREATE TABLE ... LIKE into another schema", "CREATE TABLE other.l LIKE shop.t", WritesOutside: true),
        // MariaDB logs it as CREATE TABLE `other`.`c` and that table's rows: nothing of it names `shop` any more.
        new("CREATE TABLE ... SELECT into another schema", "USE other; CREATE TABLE other.c AS SELECT * FROM shop.t"),
        new("INSERT ... SELECT into another schema", "INSERT INTO other.t SELECT id + 100, v, n FROM shop.t"),
        new("INSERT ... SELECT from another schema", "INSERT INTO shop.l SELECT id, v, 0 FROM other.src"),
        // The structure of a table outside, copied into the restored schema: as it was then, whatever the target holds.
        new("CREATE TABLE ... LIKE a table of another schema", "CREATE TABLE shop.lc LIKE other.child; INSERT INTO shop.lc VALUES (1, 5, 'copied')"),
        new("CREATE TABLE ... LIKE another schema's table after it was altered",
            "ALTER TABLE other.src ADD COLUMN extra INT NOT NULL DEFAULT 7, ADD INDEX by_v (v); CREATE TABLE shop.ls LIKE other.src; INSERT INTO shop.ls SELECT * FROM other.src"),
        new("CREATE TABLE ... LIKE another schema's table created, renamed and indexed since the backup",
            "CREATE TABLE other.n1 (id INT PRIMARY KEY, label VARCHAR(20) UNIQUE) DEFAULT CHARSET=utf8mb4 COMMENT='made since the backup'; RENAME TABLE other.n1 TO other.n2; CREATE INDEX by_both ON other.n2 (label, id); USE other; CREATE TABLE shop.ln (LIKE n2)"),
        new("another schema's table changed after a restored table was created LIKE it", "ALTER TABLE other.child ADD COLUMN later INT, DROP INDEX by_note; INSERT INTO shop.lc VALUES (2, 6, 'after')"),
        new("binlog rotation", "FLUSH BINARY LOGS"),
        new("multi-table UPDATE across schemas", "UPDATE shop.t s JOIN other.t o ON o.id = s.id SET s.n = s.n + 10, o.n = o.n + 1"),
        new("multi-table DELETE across schemas", "DELETE s, o FROM shop.l s JOIN other.src o ON o.id = s.id WHERE o.id = 50"),
        new("multi-table DELETE inside", "DELETE FROM x USING shop.t x JOIN shop.l y ON y.id = x.id WHERE x.id = 50"),
        new("RENAME TABLE", "RENAME TABLE shop.l TO shop.l2"),
        new("TRUNCATE", "TRUNCATE TABLE shop.c"),
        new("DROP TABLE of several tables", "DROP TABLE shop.a, shop.b"),
        new("temporary table", "CREATE TEMPORARY TABLE shop.tmp (x INT); INSERT INTO shop.tmp VALUES (7), (8); INSERT INTO shop.t (id, v) SELECT x + 100, 'tmp' FROM shop.tmp; DROP TEMPORARY TABLE shop.tmp"),
        new("SAVEPOINT and ROLLBACK TO", "START TRANSACTION; INSERT INTO shop.t VALUES (200, 'sp', 0); SAVEPOINT a; INSERT INTO shop.t VALUES (201, 'rolled back', 0); ROLLBACK TO SAVEPOINT a; INSERT INTO shop.t VALUES (202, 'kept', 0); RELEASE SAVEPOINT a; COMMIT"),
        new("stored procedure that writes", "CREATE PROCEDURE shop.bump(k INT) BEGIN UPDATE shop.t SET n = n + k WHERE id < 10; INSERT INTO shop.audit (what) VALUES (CONCAT('bump ', k)); END"),
        new("CALL", "CALL shop.bump(5)"),
        new("stored function that writes", "CREATE FUNCTION shop.note(w VARCHAR(40)) RETURNS INT DETERMINISTIC MODIFIES SQL DATA BEGIN INSERT INTO shop.audit (what) VALUES (w); RETURN 1; END"),
        new("SELECT of a writing function", "SELECT shop.note('from a function')"),
        new("trigger writing another table", "CREATE TRIGGER shop.t_ai AFTER INSERT ON shop.t FOR EACH ROW INSERT INTO shop.audit (what) VALUES (CONCAT('insert ', NEW.id)); INSERT INTO shop.t VALUES (300, 'trigger', 0)"),
        new("trigger writing another schema", "CREATE TRIGGER shop.t_au AFTER UPDATE ON shop.t FOR EACH ROW INSERT INTO other.audit (what) VALUES (CONCAT('update ', NEW.id)); UPDATE shop.t SET v = 'updated' WHERE id = 1"),
        new("CREATE EVENT and ALTER EVENT", "CREATE EVENT shop.e ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM shop.audit; ALTER EVENT shop.e ON SCHEDULE EVERY 2 DAY"),
        new("views created and replaced", "CREATE VIEW shop.v AS SELECT id, v FROM shop.t; CREATE OR REPLACE VIEW shop.v AS SELECT id, v, n FROM shop.t WHERE n > 0"),
        new("a view in another schema over the restored one", "CREATE VIEW other.v AS SELECT * FROM shop.t", WritesOutside: true),
        new("LOAD DATA", $"LOAD DATA INFILE '{csvPath.Replace("'", "''", StringComparison.Ordinal)}' INTO TABLE shop.t FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' (id, v, n)"),
        new("XA transaction prepared", "XA START 'x1'; INSERT INTO shop.t VALUES (400, 'xa', 0); XA END 'x1'; XA PREPARE 'x1'"),
        new("XA transaction committed", "XA COMMIT 'x1'"),
        new("XA rolled back and XA one phase", "XA START 'x2'; INSERT INTO shop.t VALUES (401, 'xa rolled back', 0); XA END 'x2'; XA PREPARE 'x2'; XA ROLLBACK 'x2'; XA START 'x3'; INSERT INTO shop.t VALUES (402, 'xa one phase', 0); XA END 'x3'; XA COMMIT 'x3' ONE PHASE"),
        new("XA transaction of another schema", "XA START 'x4'; INSERT INTO other.t VALUES (500, 'xa', 0); XA END 'x4'; XA PREPARE 'x4'; XA COMMIT 'x4'"),
        new("sequence: CREATE, NEXTVAL, SETVAL", "CREATE SEQUENCE shop.s START WITH 10; SELECT NEXTVAL(shop.s); SELECT NEXTVAL(shop.s); SELECT SETVAL(shop.s, 100)"),
        new("schema names in string literals and comments", "INSERT INTO shop.t VALUES (600, 'other.t /* shop.x */ `other`.t', 0); /* other.t */ UPDATE shop.t SET v = 'shop.t -- other.t' WHERE id = 2 # other.t"),
        new("binlog rotation inside a step", "INSERT INTO shop.t VALUES (700, 'before rotation', 0); FLUSH BINARY LOGS; INSERT INTO shop.t VALUES (701, 'after rotation', 0)"),
        new("ALTER TABLE", "ALTER TABLE shop.t ADD COLUMN note VARCHAR(20) NOT NULL DEFAULT 'x', ADD INDEX by_n (n)"),
        new("account and privileges on the schema", "CREATE USER IF NOT EXISTS 'corpus_app'@'%' IDENTIFIED BY 'not-a-secret'; GRANT SELECT ON shop.* TO 'corpus_app'@'%'", WritesOutside: true),
        new("another database created and dropped", "CREATE DATABASE scratch; CREATE TABLE scratch.x (i INT); INSERT INTO scratch.x VALUES (1); DROP DATABASE scratch"),
        new("a big transaction", "INSERT INTO shop.t (id, v, n) SELECT seq + 10000, REPEAT('z', 40), seq FROM shop.seq_1_to_4000"),
        new("CREATE OR REPLACE TABLE ... SELECT", "CREATE OR REPLACE TABLE shop.c AS SELECT id FROM shop.t WHERE id < 3"),
        new("DROP TABLE IF EXISTS with a missing table", "DROP TABLE IF EXISTS shop.nothere, shop.fromother"),
        new("a transaction of another schema alone", "INSERT INTO other.t VALUES (900, 'last', 0)"),
    };

    /// <summary>What the LOAD DATA step reads.</summary>
    public const string CsvContent = "800,loaded one,1\n801,\"loaded, two\",2\n802,loaded three,3\n";

    /// <summary>Statements that write both inside and outside the restored schema: replay must refuse them, naming their GTID.</summary>
    public static IReadOnlyList<CorpusStep> Mixed { get; } = new CorpusStep[]
    {
        new("DROP TABLE of a table inside and one outside", "DROP TABLE shop.c, other.c"),
        new("RENAME TABLE out of the schema", "RENAME TABLE shop.l2 TO other.l2"),
    };
}
