namespace EcomDr.TestKit.Shop;

/// <summary>
/// The sample shop's schema: what an e-commerce platform keeps in MySQL, with every type a
/// backup must carry exactly (DECIMAL, DATETIME(6), TIMESTAMP, JSON, utf8mb4 with emoji, BLOB with
/// zero bytes, ENUM, SET, BIT, NULLs, generated columns) and every object kind a dump must
/// recreate (foreign keys, a trigger, a procedure, a view, an event).
/// </summary>
public static class ShopSchema
{
    /// <summary>Base tables in foreign-key order (parents first).</summary>
    public static readonly IReadOnlyList<string> Tables = new[]
    {
        "alembic_version", "customers", "products", "inventory", "orders", "order_items",
        "payments", "refunds", "order_status_history",
    };

    public const string AlembicRevision = "4f2a9c1d7e3b";

    public static IReadOnlyList<string> Statements(string schema) => new[]
    {
        $"CREATE DATABASE `{schema}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        $"USE `{schema}`",
        """
        CREATE TABLE alembic_version (
          version_num VARCHAR(32) NOT NULL,
          CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
        ) ENGINE=InnoDB
        """,
        """
        CREATE TABLE customers (
          id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
          email VARCHAR(191) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
          email_domain VARCHAR(191) CHARACTER SET ascii COLLATE ascii_general_ci AS (SUBSTRING_INDEX(email, '@', -1)) STORED,
          full_name VARCHAR(200) NOT NULL,
          phone VARCHAR(32) NULL,
          marketing_opt_in BIT(1) NOT NULL DEFAULT b'0',
          feature_flags BIT(64) NOT NULL DEFAULT b'0',
          tier ENUM('bronze','silver','gold','platinum') NOT NULL DEFAULT 'bronze',
          interests SET('electronics','books','home','toys','fashion','sports') NULL,
          avatar BLOB NULL,
          created_at DATETIME(6) NOT NULL,
          updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          PRIMARY KEY (id),
          UNIQUE KEY uq_customers_email (email),
          KEY ix_customers_domain (email_domain)
        ) ENGINE=InnoDB
        """,
        """
        CREATE TABLE products (
          id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
          sku VARCHAR(32) CHARACTER SET ascii NOT NULL,
          name VARCHAR(200) NOT NULL,
          description TEXT NULL,
          price DECIMAL(12,2) NOT NULL,
          weight_grams INT UNSIGNED NULL,
          attributes JSON NULL,
          created_at DATETIME(6) NOT NULL,
          PRIMARY KEY (id),
          UNIQUE KEY uq_products_sku (sku)
        ) ENGINE=InnoDB
        """,
        """
        CREATE TABLE inventory (
          product_id BIGINT UNSIGNED NOT NULL,
          received INT NOT NULL,
          on_hand INT NOT NULL,
          updated_at DATETIME(6) NOT NULL,
          PRIMARY KEY (product_id),
          CONSTRAINT fk_inventory_product FOREIGN KEY (product_id) REFERENCES products (id)
        ) ENGINE=InnoDB
        """,
        """
        CREATE TABLE orders (
          id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
          customer_id BIGINT UNSIGNED NOT NULL,
          status ENUM('pending','paid','shipped','refunded','cancelled') NOT NULL DEFAULT 'pending',
          currency CHAR(3) CHARACTER SET ascii NOT NULL DEFAULT 'BRL',
          item_count INT NOT NULL,
          total DECIMAL(12,2) NOT NULL,
          notes VARCHAR(500) NULL,
          placed_at DATETIME(6) NOT NULL,
          updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          PRIMARY KEY (id),
          KEY ix_orders_customer (customer_id),
          KEY ix_orders_status (status, id),
          CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
        ) ENGINE=InnoDB
        """,
        """
        CREATE TABLE order_items (
          id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
          order_id BIGINT UNSIGNED NOT NULL,
          product_id BIGINT UNSIGNED NOT NULL,
          quantity INT NOT NULL,
          unit_price DECIMAL(12,2) NOT NULL,
          line_total DECIMAL(14,2) AS (quantity * unit_price) VIRTUAL,
          PRIMARY KEY (id),
          KEY ix_items_order (order_id),
          KEY ix_items_product (product_id),
          CONSTRAINT fk_items_order FOREIGN KEY (order_id) REFERENCES orders (id),
          CONSTRAINT fk_items_product FOREIGN KEY (product_id) REFERENCES products (id)
        ) ENGINE=InnoDB
        """,
        """
        CREATE TABLE payments (
          id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
          order_id BIGINT UNSIGNED NOT NULL,
          provider VARCHAR(32) NOT NULL DEFAULT 'mercadopago',
          external_id VARCHAR(64) CHARACTER SET ascii NOT NULL,
          status ENUM('pending','approved','rejected','in_process','refunded') NOT NULL,
          amount DECIMAL(12,2) NOT NULL,
          currency CHAR(3) CHARACTER SET ascii NOT NULL DEFAULT 'BRL',
          payload JSON NULL,
          created_at DATETIME(6) NOT NULL,
          captured_at DATETIME(6) NULL,
          PRIMARY KEY (id),
          UNIQUE KEY uq_payments_external (provider, external_id),
          KEY ix_payments_order (order_id),
          CONSTRAINT fk_payments_order FOREIGN KEY (order_id) REFERENCES orders (id)
        ) ENGINE=InnoDB
        """,
        """
        CREATE TABLE refunds (
          id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
          payment_id BIGINT UNSIGNED NOT NULL,
          amount DECIMAL(12,2) NOT NULL,
          reason VARCHAR(255) NULL,
          created_at DATETIME(6) NOT NULL,
          PRIMARY KEY (id),
          KEY ix_refunds_payment (payment_id),
          CONSTRAINT fk_refunds_payment FOREIGN KEY (payment_id) REFERENCES payments (id)
        ) ENGINE=InnoDB
        """,
        """
        CREATE TABLE order_status_history (
          id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
          order_id BIGINT UNSIGNED NOT NULL,
          old_status VARCHAR(16) NOT NULL,
          new_status VARCHAR(16) NOT NULL,
          changed_at DATETIME(6) NOT NULL,
          PRIMARY KEY (id),
          KEY ix_history_order (order_id)
        ) ENGINE=InnoDB
        """,
        """
        CREATE TRIGGER trg_orders_status_history AFTER UPDATE ON orders FOR EACH ROW
        BEGIN
          IF NEW.status <> OLD.status THEN
            INSERT INTO order_status_history (order_id, old_status, new_status, changed_at)
            VALUES (NEW.id, OLD.status, NEW.status, NEW.updated_at);
          END IF;
        END
        """,
        """
        CREATE PROCEDURE sp_restock(IN p_product_id BIGINT UNSIGNED, IN p_quantity INT)
        MODIFIES SQL DATA
        BEGIN
          UPDATE inventory
             SET received = received + p_quantity, on_hand = on_hand + p_quantity, updated_at = NOW(6)
           WHERE product_id = p_product_id;
        END
        """,
        """
        CREATE VIEW v_order_totals AS
          SELECT o.id AS order_id, o.customer_id, o.status, o.total,
                 COALESCE(SUM(i.line_total), 0) AS items_total, COUNT(i.id) AS line_count
            FROM orders o LEFT JOIN order_items i ON i.order_id = o.id
           GROUP BY o.id, o.customer_id, o.status, o.total
        """,
        """
        CREATE EVENT ev_purge_status_history
          ON SCHEDULE EVERY 1 DAY STARTS (CURRENT_DATE + INTERVAL 1 DAY + INTERVAL 3 HOUR)
          DO DELETE FROM order_status_history WHERE changed_at < NOW(6) - INTERVAL 400 DAY
        """,
        $"INSERT INTO alembic_version (version_num) VALUES ('{AlembicRevision}')",
    };
}
