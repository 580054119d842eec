#pragma once
// The event document (hendelsesdokument, SPEC 2.4) of one version of a person: what the event
// with sekvensnummer `seq` changed, derived from the person's record (no copy is stored).
//
// Wire shape: `folkeregisteret.tilgjengeliggjoering.hendelse.v1.DokumentForHendelse` in
// reference/freg/freg-omh-1.5.yaml:
//   {"dokumentidentifikator":"…","skjemaversjon":"1.0",
//    "hendelse":{"folkeregisteridentifikator":"…","hendelsestype":"…","ajourholdstidspunkt":"…",
//                "egenskapshendelse":[{"entitet":"navn","entitetsendring":"registrereNy",
//                                      "navn":{…row…}}, …]}}
//
// Egenskapshendelse entries of version `seq`, per property in XSD order:
//   - every row added at `seq` (from_seq == seq), in stored order (newest first): `korrigere` while
//     the property has rows removed at `seq` (removed_at == seq) left to pair with (the i-th added
//     row replaces the i-th removed one), `registrereNy` otherwise;
//   - one `annullere` entry per removed row left unpaired. As in Skatteetaten's published
//     examples, an annullere entry names the entity only (no row).
// The identitetsgrunnlag row's `identitetsgrunnlagstatus` is named `legitimasjonskontroll`, as the
// event schemas (OpenAPI hendelse.v1.Identitetsgrunnlag and the event XSD) require.
// Rows that merely became history at `seq` (current_until == seq) are no entries: the new row that
// ended them is. Rows are written as stored (the schema's hendelse.v1 rows have no erGjeldende);
// a row that is not a JSON object is left out, as in person documents.
// When the person is strengtFortrolig at `seq` (IsStrengtFortroligAt), address properties are
// left out. preferertKontaktadresse has no place in the schema's Registerdata and is left out.
//
// All functions are pure and thread-safe; output is appended to `out`.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.hpp"
#include "freg/person_record.hpp"
#include "freg/record_codec.hpp"

namespace norreg::freg {

inline constexpr std::string_view kEventXmlNamespace =
    "folkeregisteret:tilgjengeliggjoering:hendelse:v1";
inline constexpr std::string_view kEventSchemaVersion = "1.0";

enum class Entitetsendring : uint8_t { kRegistrereNy, kKorrigere, kAnnullere };
// "registrereNy", "korrigere", "annullere".
std::string_view EntitetsendringName(Entitetsendring e);

// The Registerdata `entitet` of a property: its JSON name, except the two the schema's enum names
// after their types (postadresse -> "kontaktadresse", postadresseIUtlandet ->
// "kontaktadresseIUtlandet"); "" for preferertKontaktadresse, which Registerdata lacks. The row
// itself is always keyed by PropertyName (the Registerdata property).
std::string_view EntitetName(Property p);

// The `hendelsestype` of an event document: HendelsetypeName, except the three names the
// schema's Hendelsestype enum spells differently (endringIPostadresse and
// endringIPreferertKontaktadresse -> "endringIKontaktinformasjon",
// endringIKontaktinformasjonForDoedsbo -> "endringIKontaktopplysningerForDoedsbo").
std::string_view HendelsestypeName(Hendelsetype t);

// False for event types without an event document (personErOppdatert, SPEC 2.4).
bool HasEventDocument(Hendelsetype t);

// One entry of egenskapshendelse. `json` views the record's row (empty for annullere) and lives
// as long as the record it came from.
struct Egenskapshendelse {
  Property property = Property::kStatus;
  Entitetsendring endring = Entitetsendring::kRegistrereNy;
  std::string_view json;
};

// Replaces the contents of `out` with the entries of version `seq` (rules above, strengtFortrolig
// and preferertKontaktadresse already left out). Reusing `out` avoids allocation.
void CollectEgenskapshendelser(const PersonRecord& record, uint64_t seq,
                               std::vector<Egenskapshendelse>& out);
void CollectEgenskapshendelser(const RecordView& record, uint64_t seq,
                               std::vector<Egenskapshendelse>& out);

// What the event document says about the event itself (from the versions table / feed row).
struct EventHeader {
  std::string_view dokumentidentifikator;       // the event document's 32-hex id
  std::string_view folkeregisteridentifikator;  // the person's number at the time of the event
  Hendelsetype type = Hendelsetype::kPersonErOpprettet;
  timefmt::EpochMs ajourholdstidspunkt = 0;
};

// Appends the compact JSON DokumentForHendelse of version `seq`.
void RenderEventDocumentJson(const PersonRecord& record, uint64_t seq, const EventHeader& header,
                             std::string& out);
void RenderEventDocumentJson(const RecordView& record, uint64_t seq, const EventHeader& header,
                             std::string& out);

// Appends `<dokumentForHendelse xmlns="folkeregisteret:tilgjengeliggjoering:hendelse:v1">`, the
// root element of the event XSD (Hendelsedokument v1.4, embedded; see freg/event_xsd.hpp), with
// the same content as the JSON in the XSD's order (no XML declaration): in each
// egenskapshendelse the row's element first, then entitet and entitetsendring; each row's fields
// in the order of its event-XSD type, fields that type lacks left out. Entries the XSD has no
// place for (entitet outside Entitetsnavn, row element outside Registerdata) and rows that cannot
// be transcoded are left out, so the document always validates (docs/xml.md). With
// root_namespace=false the xmlns attribute is left out (for a wrapper declaring it); `root`
// names the root element (a wrapper may name it after its own field).
inline constexpr std::string_view kEventXmlRoot = "dokumentForHendelse";
void RenderEventDocumentXml(const PersonRecord& record, uint64_t seq, const EventHeader& header,
                            std::string& out, bool root_namespace = true,
                            std::string_view root = kEventXmlRoot);
void RenderEventDocumentXml(const RecordView& record, uint64_t seq, const EventHeader& header,
                            std::string& out, bool root_namespace = true,
                            std::string_view root = kEventXmlRoot);

}  // namespace norreg::freg
