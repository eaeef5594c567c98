namespace EcomDr.TestKit.Shop;

/// <summary>Word pools for generated rows: accents, CJK and 4-byte emoji so utf8mb4 is exercised.</summary>
internal static class ShopData
{
    public static readonly string[] FirstNames =
    {
        "João", "María", "Zoë", "Ana", "Luís", "Chloé", "Søren", "Łukasz", "Thảo", "Ömer", "李娜", "Aiko",
        "Noah", "Emma", "Olivia", "Mateo", "Camila", "Valentina", "Santiago", "Isabella",
    };

    public static readonly string[] LastNames =
    {
        "Silva", "Santos", "García", "Müller", "Ñúñez", "O'Brien", "Kowalski", "Nguyễn", "Yılmaz", "王",
        "Pérez", "Souza", "Smith", "Dubois", "Rossi", "Costa",
    };

    public static readonly string[] Emoji = { "", "", "", " 🛒", " 🎉", " ⭐", " 👩‍💻", " 🇧🇷" };

    public static readonly string[] Domains = { "example.com", "correo.example", "mail.example.org", "shop.example.net" };

    public static readonly string[] Interests = { "electronics", "books", "home", "toys", "fashion", "sports" };

    public static readonly string[] Adjectives = { "Smart", "Classic", "Eco", "Ultra", "Mini", "Pro", "Café", "Niño" };

    public static readonly string[] Nouns = { "Lamp", "Kettle", "Backpack", "Headphones", "Sneakers", "Blender", "Notebook", "Mug", "Drone", "Jacket" };

    public static readonly string[] Colors = { "azul", "vermelho", "verde", "preto", "branco", "rosé" };

    public static readonly string[] PaymentMethods = { "pix", "visa", "master", "bolbradesco", "account_money" };

    public static readonly string[] RefundReasons = { "arrependimento", "produto com defeito", "não recebido", "tamanho errado 👟", null! };

    public static T Pick<T>(this Random rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];
}
