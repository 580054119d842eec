#include "gen/names.hpp"

#include <array>

namespace norreg::gen {
namespace {

constexpr std::string_view kAdjectives[] = {
    "AKTPÅGIVENDE", "ALLSIDIG", "ANSVARLIG", "AVSLAPPET", "BEGEISTRET", "BESKJEDEN", "BLID",
    "BLÅ", "BRA", "BRED", "BRUN", "DYKTIG", "DRISTIG", "EDRUELIG", "EGENRÅDIG", "ELEGANT",
    "ENERGISK", "ENESTÅENDE", "ENSLIG", "ERFAREN", "FARGERIK", "FATTET", "FIN", "FLINK",
    "FLITTIG", "FORNØYD", "FORSIKTIG", "FREDELIG", "FRISK", "FRODIG", "FRYKTLØS", "GAVMILD",
    "GLAD", "GLITRENDE", "GRØNN", "GUL", "GÅTEFULL", "HARDFØR", "HEL", "HJELPSOM", "HYGGELIG",
    "HØFLIG", "IHERDIG", "INTERESSANT", "IVRIG", "JOVIAL", "KLAR", "KLOK", "KOSELIG", "KREATIV",
    "KVIKK", "KYNDIG", "LEVENDE", "LIVLIG", "LOJAL", "LUN", "LYS", "LYSTIG", "MODIG", "MORSOM",
    "MYK", "MUNTER", "NATURLIG", "NYSGJERRIG", "NØYAKTIG", "OPPRIKTIG", "OPTIMISTISK",
    "ORDENTLIG", "PRAKTISK", "PRESIS", "PÅLITELIG", "RASK", "RAUS", "RETTFERDIG", "ROLIG",
    "ROSA", "RUND", "RØD", "SAKLIG", "SINDIG", "SJENERØS", "SKARP", "SKINNENDE", "SKJØNN",
    "SMIDIG", "SNILL", "SOLID", "SPENNENDE", "SPORTY", "STERK", "STILLE", "STOLT", "STOR",
    "STRÅLENDE", "STØDIG", "SYMPATISK", "SØT", "TAKKNEMLIG", "TAPPER", "TOLERANT", "TREG",
    "TRIVELIG", "TRYGG", "TÅLMODIG", "UAVHENGIG", "UREDD", "VAKKER", "VARM", "VENNLIG",
    "VETTUG", "VIDUNDERLIG", "VILL", "VITEN", "VIS", "VÅKEN", "ÆRLIG", "ØRKESLØS", "ÅPEN",
    "ÅNDFULL", "ÅRVÅKEN", "ALVORLIG", "BEDAGELIG", "BEVEGELIG", "DIGITAL", "DRØY", "EKTE",
    "FARLIG", "FJERN", "FRI", "GAMMEL", "GRÅ", "HVIT", "KALD", "KORT", "LANG", "LETT", "LITEN",
    "MØRK", "NY", "RIK", "SKJEV", "SMAL", "STUM", "SVART", "TJUKK", "TYNN", "UNG", "VISS",
    "KJEKK", "LUFTIG", "NYTTIG", "POPULÆR", "RYDDIG", "SOLRIK", "TIDLIG", "ULYDIG", "VIKTIG",
};

constexpr std::string_view kNouns[] = {
    "OLJE", "APE", "BANAN", "BJØRN", "BOK", "BLOMST", "BRO", "BUSS", "DAL", "DIKT", "DRAGE",
    "DUE", "EIK", "ELG", "ELV", "ERT", "FJELL", "FJORD", "FLAGG", "FLY", "FOSS", "FRUKT",
    "GITAR", "GREVLING", "GRYTE", "HAV", "HEST", "HYTTE", "HØNE", "IS", "JAKKE", "JORD",
    "KAKE", "KATT", "KLOKKE", "KNIV", "KOPP", "KRAN", "KU", "LAKS", "LAMPE", "LEILIGHET",
    "LINJAL", "LØVE", "MAUR", "MELK", "MÅKE", "MUS", "MYGG", "NÅL", "NØTT", "ORM", "OST",
    "PAPIR", "PARAPLY", "PENN", "PINGVIN", "PLANTE", "PUTE", "REV", "RIS", "ROSE", "SAKS",
    "SEKK", "SJIRAFF", "SKAP", "SKIP", "SKJERF", "SKO", "SKOG", "SKY", "SOL", "SOFA", "SPADE",
    "STEIN", "STJERNE", "STOL", "STRAND", "SYKKEL", "TANNBØRSTE", "TELT", "TIGER", "TOG",
    "TOMAT", "TRE", "TROLL", "ULV", "UGLE", "VANN", "VEPS", "VINDU", "VOTT", "ØRN", "ØY",
    "ÅKER", "ÅRE", "BÆR", "EPLE", "PÆRE", "PLOMME", "KIRSEBÆR", "NEPE", "GULROT", "LØK",
    "KÅL", "SELLERI", "AGURK", "PAPRIKA", "HUMLE", "SEL", "HVAL", "KREPS", "REKE", "TORSK",
    "SILD", "MAKRELL", "ØRRET", "GJEDDE", "ABBOR", "HARE", "EKORN", "PINNSVIN", "RÅDYR",
    "HJORT", "REIN", "OTER", "BEVER", "GAUPE", "JERV", "SPURV", "KRÅKE", "SKJÆRE", "SVANE",
    "GÅS", "AND", "LERKE", "TROST", "MEIS", "FINK", "HAUK", "FALK", "TRANE", "STORK",
    "PARAFIN", "BENSIN", "DIESEL", "KULL", "TORV", "VED", "GLASS", "TEGL", "SEMENT", "SAND",
    "GRUS", "LEIRE", "KALK", "KOBBER", "SØLV", "GULL", "JERN", "STÅL", "TINN", "BLY",
};

constexpr std::string_view kMale[] = {
    "OLA", "JAN", "PER", "BJØRN", "OLE", "LARS", "KJELL", "KNUT", "ARNE", "SVEIN", "HANS",
    "THOMAS", "GEIR", "MARTIN", "TOR", "TERJE", "ANDERS", "JOHN", "ERIK", "TROND", "JONAS",
    "MAGNUS", "EMIL", "HENRIK", "NOAH", "JAKOB", "FILIP", "OLIVER", "WILLIAM", "LUCAS",
    "ISAK", "AKSEL", "SANDER", "MATHIAS", "ELIAS", "KRISTIAN", "ESPEN", "EIRIK", "ØYVIND",
    "HÅKON", "SIGURD", "TORBJØRN", "AUDUN", "RUNE", "STIAN", "VEGARD", "HARALD", "ØYSTEIN",
};

constexpr std::string_view kFemale[] = {
    "ANNE", "INGER", "KARI", "MARIT", "INGRID", "LIV", "EVA", "BERIT", "ASTRID", "BJØRG",
    "HILDE", "ANNA", "SOLVEIG", "MARIANNE", "RANDI", "IDA", "NINA", "MARIA", "ELISABETH",
    "KRISTIN", "NORA", "EMMA", "OLIVIA", "SOFIE", "ELLA", "LEAH", "INGEBORG", "SARA", "AMALIE",
    "THEA", "MAJA", "FRIDA", "LINNEA", "SIGRID", "TONE", "TURID", "GRO", "RAGNHILD", "SIRI",
    "MARTE", "SILJE", "HANNE", "GUNN", "HEIDI", "TORILL", "VILDE", "JOHANNE", "SYNNØVE",
};

constexpr std::string_view kSurnames[] = {
    "HANSEN", "JOHANSEN", "OLSEN", "LARSEN", "ANDERSEN", "PEDERSEN", "NILSEN", "KRISTIANSEN",
    "JENSEN", "KARLSEN", "JOHNSEN", "PETTERSEN", "ERIKSEN", "BERG", "HAUGEN", "HAGEN",
    "JOHANNESSEN", "ANDREASSEN", "JACOBSEN", "DAHL", "JØRGENSEN", "HALVORSEN", "HENRIKSEN",
    "LUND", "SØRENSEN", "JAKOBSEN", "MOEN", "GUNDERSEN", "IVERSEN", "STRAND", "SOLBERG",
    "SVENDSEN", "EIDE", "KNUTSEN", "MARTINSEN", "PAULSEN", "BAKKEN", "KRISTOFFERSEN",
    "MATHISEN", "LIE", "AMUNDSEN", "NGUYEN", "RASMUSSEN", "BERGE", "LUNDE", "MOE", "NYGÅRD",
    "BAKKE", "KRISTENSEN", "FREDRIKSEN", "HOLM", "LIEN", "ANDRESEN", "NIELSEN", "KNUDSEN",
};

constexpr std::string_view kStreetStems[] = {
    "Kirke", "Skole", "Stasjons", "Bjørke", "Furu", "Gran", "Eike", "Lønne", "Ospe", "Rogne",
    "Hegge", "Selje", "Ski", "Sol", "Måne", "Stjerne", "Fjell", "Fjord", "Sjø", "Strand",
    "Bekke", "Elve", "Foss", "Myr", "Eng", "Mo", "Haug", "Bakke", "Li", "Dal", "Berg", "Stein",
    "Ås", "Nes", "Vik", "Holme", "Skog", "Lund", "Tun", "Gårds", "Kvern", "Sag", "Smie",
    "Mølle", "Torv", "Brygge", "Havne", "Verfts", "Fabrikk", "Prest", "Klokker", "Lensmann",
    "Doktor", "Post", "Telegraf", "Jernbane", "Kongs", "Dronning", "Prins", "Olav Tryggvasons ",
    "Henrik Ibsens ", "Bjørnstjerne Bjørnsons ", "Camilla Colletts ", "Edvard Griegs ",
    "Roald Amundsens ", "Fridtjof Nansens ", "Kristian Augusts ", "Thereses ", "Nord", "Sør",
    "Øst", "Vest", "Nedre ", "Øvre ", "Gamle ", "Nye ", "Lille ", "Store ", "Rosen", "Lilje",
    "Tulipan", "Blåbær", "Tyttebær", "Multe", "Bringebær", "Kløver", "Hvete", "Rug", "Bygg",
    "Havre", "Reve", "Ulve", "Bjørne", "Elg", "Hjorte", "Ørne", "Falke", "Trane", "Svane",
};

constexpr std::string_view kStreetSuffixes[] = {
    "veien", "vegen", "gata", "gate", "bakken", "lia", "stien", "svingen", "tunet", "jordet",
    "haugen", "åsen", "kroken", "løkka", "plassen", "allé", "brekka", "lunden", "myra", "grenda",
};

constexpr Country kCountries[] = {
    {"POL", "WARSZAWA", 100}, {"LTU", "VILNIUS", 45},   {"SWE", "STOCKHOLM", 40},
    {"SYR", "DAMASKUS", 35},  {"SOM", "MOGADISHU", 25}, {"DEU", "BERLIN", 25},
    {"ERI", "ASMARA", 22},    {"PHL", "MANILA", 22},    {"IRQ", "BAGDAD", 20},
    {"DNK", "KØBENHAVN", 18}, {"THA", "BANGKOK", 18},   {"PAK", "ISLAMABAD", 18},
    {"AFG", "KABUL", 17},     {"IRN", "TEHERAN", 16},   {"VNM", "HANOI", 15},
    {"ROU", "BUCURESTI", 15}, {"LVA", "RIGA", 14},      {"GBR", "LONDON", 13},
    {"UKR", "KYIV", 40},      {"ESP", "MADRID", 10},    {"USA", "NEW YORK", 10},
    {"IND", "MUMBAI", 12},    {"CHN", "BEIJING", 10},   {"FRA", "PARIS", 8},
    {"ITA", "ROMA", 7},       {"EST", "TALLINN", 8},    {"BGR", "SOFIA", 6},
    {"ISL", "REYKJAVIK", 6},  {"FIN", "HELSINKI", 7},   {"NLD", "AMSTERDAM", 6},
    {"BRA", "SAO PAULO", 5},  {"ETH", "ADDIS ABEBA", 8},
    {"TUR", "ANKARA", 9},     {"RUS", "MOSKVA", 8},     {"BIH", "SARAJEVO", 7},
};

}  // namespace

std::span<const std::string_view> AdjectiveNames() { return kAdjectives; }
std::span<const std::string_view> NounNames() { return kNouns; }
std::span<const std::string_view> MaleGivenNames() { return kMale; }
std::span<const std::string_view> FemaleGivenNames() { return kFemale; }
std::span<const std::string_view> OrdinarySurnames() { return kSurnames; }
std::span<const std::string_view> StreetStems() { return kStreetStems; }
std::span<const std::string_view> StreetSuffixes() { return kStreetSuffixes; }
std::span<const Country> ForeignCountries() { return kCountries; }

}  // namespace norreg::gen
