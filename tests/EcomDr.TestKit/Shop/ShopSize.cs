namespace EcomDr.TestKit.Shop;

/// <summary>How big a generated shop is. About 1.3 KB per order with its items, payment and payload.</summary>
public sealed record ShopSize(int Customers, int Products, int Orders)
{
    public static ShopSize Tiny { get; } = new(50, 20, 100);

    /// <summary>A shop of roughly the given size on disk (data, not indexes).</summary>
    public static ShopSize FromMegabytes(double megabytes)
    {
        var orders = Math.Max(100, (int)(megabytes * 750));
        return new ShopSize(Math.Max(50, orders / 4), Math.Max(20, Math.Min(20_000, orders / 40)), orders);
    }
}
