namespace VmPooler.Core.Naming;

/// <summary>
/// Generates human-readable VM names, <c>&lt;prefix&gt;&lt;adjective&gt;-&lt;noun&gt;</c>, with the random part at most 15
/// characters (noun ≤ 10, adjective ≤ 14 − noun), as the original does (spec §4.3). Uniqueness is checked by the
/// inventory when the name is registered.
/// </summary>
public sealed class VmNameGenerator
{
    private static readonly string[] Adjectives =
    [
        "able", "acid", "agile", "airy", "amber", "ample", "azure", "bald", "bold", "brave", "brisk", "calm", "candid",
        "chilly", "civil", "clever", "cosmic", "crisp", "cubic", "curly", "dapper", "daring", "deft", "dense", "eager",
        "early", "elated", "epic", "even", "exact", "fair", "fancy", "fast", "fierce", "firm", "fluffy", "frank",
        "fresh", "frosty", "gentle", "giddy", "glad", "golden", "grand", "great", "hasty", "hazy", "hearty", "honest",
        "humble", "icy", "ideal", "jolly", "jovial", "keen", "kind", "large", "lavish", "level", "lively", "lucid",
        "lucky", "lunar", "mellow", "merry", "mild", "modest", "mossy", "narrow", "neat", "nimble", "noble", "odd",
        "olive", "open", "polite", "proud", "quick", "quiet", "rapid", "rare", "ready", "regal", "rosy", "rough",
        "round", "royal", "rustic", "sandy", "sharp", "shiny", "silent", "silver", "simple", "sleek", "smooth",
        "snowy", "solid", "sonic", "spry", "steady", "stoic", "sunny", "swift", "tall", "tame", "tidy", "tiny",
        "tough", "tranquil", "upbeat", "urban", "valid", "vast", "vivid", "warm", "wary", "wise", "witty", "young",
        "zany", "zesty",
    ];

    private static readonly string[] Nouns =
    [
        "acorn", "anchor", "arrow", "aspen", "badger", "banjo", "beacon", "birch", "bison", "bramble", "breeze",
        "brook", "canyon", "cedar", "cliff", "clover", "comet", "coral", "cougar", "crane", "creek", "dingo",
        "dolphin", "dune", "eagle", "ember", "falcon", "fern", "finch", "fjord", "flint", "forest", "fox", "galaxy",
        "garnet", "gecko", "geyser", "glacier", "granite", "grove", "harbor", "hawk", "heron", "hill", "iris",
        "island", "jaguar", "jasper", "kestrel", "koala", "lagoon", "lake", "lark", "lemur", "lichen", "lily",
        "lynx", "maple", "marsh", "meadow", "meteor", "mink", "moose", "moss", "nebula", "newt", "oak", "ocean",
        "orchid", "osprey", "otter", "owl", "panda", "pebble", "pine", "planet", "plover", "pond", "poppy",
        "prairie", "quail", "quartz", "raven", "reef", "ridge", "river", "robin", "sage", "salmon", "sparrow",
        "spruce", "stone", "summit", "swan", "thistle", "thunder", "tiger", "trout", "tulip", "tundra", "valley",
        "walrus", "willow", "wombat", "wren", "yak", "zebra",
    ];

    private const int MaxRandomLength = 15;
    private const int MaxNounLength = 10;

    private readonly Random _random;

    public VmNameGenerator(Random? random = null)
    {
        _random = random ?? Random.Shared;
    }

    /// <summary>A new candidate name with <paramref name="prefix"/> in front.</summary>
    public string Next(string prefix)
    {
        string noun;
        do
        {
            noun = Nouns[_random.Next(Nouns.Length)];
        }
        while (noun.Length > MaxNounLength);

        var maxAdjective = MaxRandomLength - 1 - noun.Length;
        string adjective;
        do
        {
            adjective = Adjectives[_random.Next(Adjectives.Length)];
        }
        while (adjective.Length > maxAdjective);

        return string.Concat(prefix, adjective, "-", noun);
    }
}
