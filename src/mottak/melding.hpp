#pragma once
// The Brreg mottak message formats (SPEC 3, reference/brreg/*.xsd): the `Melding` envelope
// (melding.xsd, namespace http://schema.brreg.no/postmottak/henvendelse) that parties upload and
// that replies carry as henvendelse.xml, and the `Applikasjonskvittering` receipt
// (applikasjonskvittering.xsd) that the demo answers every upload with.
//
// ParseMelding validates against melding.xsd exactly: the root element and namespace, the
// element order (Mottaker, Avsender, Referanse*, Innhold, Vedlegg*, Signatur?), Innhold as a
// choice of Data(@format) or DataRef(@referanse, @format, @referanseFormat?, @sjekksum? hex),
// Vedlegg(@type, @navn) with Vedleggsdel+(@sekvensnr, @filnavn?), every required attribute,
// the xs:token types (whitespace collapsed before checking) with their maxLength (stTekst32 = 32,
// stTekst64 = 64 characters, counted in Unicode code points) and the stGUID pattern
// `[A-Za-z0-9._-]{32,36}@?[A-Za-z0-9.-]{0,11}` for @id. Unknown elements or attributes in the
// namespace are errors. The parser never expands entities or reads a DTD (an XML bomb or an
// external entity is an error, not work): input with a DOCTYPE is refused.
//
// Errors: kInvalidInput with a message naming the element/attribute and what is wrong, e.g.
// "Melding/@id: does not match the GUID pattern" or "Melding: expected Avsender, found Referanse".
// Thread-safety: free functions, no shared state.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace norreg::mottak {

inline constexpr std::string_view kMeldingNamespace =
    "http://schema.brreg.no/postmottak/henvendelse";
inline constexpr std::string_view kKvitteringNamespace =
    "http://schema.brreg.no/postmottak/applikasjonskvittering";

struct Adressat {
  std::string id;       // e.g. an orgnr
  std::string id_type;  // e.g. "orgnr"
  std::string name;     // the element's text
};

struct Referanse {
  std::string referanse;
  std::string referanse_type;  // e.g. "MeldingsReferanse"
};

// Innhold or a Vedleggsdel: either inline Data (text, with @format) or a DataRef.
struct Innhold {
  bool is_ref = false;
  std::string format;
  std::string data;       // Data's text (is_ref false)
  std::string referanse;  // DataRef (is_ref true)
  std::string referanse_format;
  std::string sjekksum;  // hex, "" when absent
};

struct Vedleggsdel {
  std::string sekvensnr;
  std::string filnavn;  // "" when absent
  Innhold innhold;
};

struct Vedlegg {
  std::string type;
  std::string navn;
  std::vector<Vedleggsdel> deler;
};

struct Melding {
  std::string versjon;
  std::string id;  // the sender's message id (stGUID)
  std::string tjeneste;
  std::string tjenestehandling;
  Adressat mottaker;
  Adressat avsender;
  std::vector<Referanse> referanser;
  Innhold innhold;
  std::vector<Vedlegg> vedlegg;
  std::optional<std::string> signatur;  // the Signatur element's inner XML as written
};

// Parses and validates a Melding document (see above).
Result<Melding> ParseMelding(std::string_view xml);

// Renders `melding` as a complete XML document (UTF-8, with declaration) that ParseMelding
// accepts and parses back to an equal Melding. kInvalidInput when a field breaks the schema
// (the same checks as ParseMelding), so nothing invalid is ever published.
Result<std::string> RenderMelding(const Melding& melding);

enum class KvitteringStatus { kNotSet, kOk, kUnExpectedError, kValidationFailed, kRejected };

struct Applikasjonskvittering {
  KvitteringStatus status = KvitteringStatus::kOk;
  std::string status_tekst;
  int status_kode = 0;
  std::string meldings_referanse;      // the uploaded Melding's id
  std::string henvendelses_referanse;  // optional ("" = absent), e.g. the mottakId
  std::string avsenders_referanse;     // optional ("" = absent)
};

// Renders a receipt per applikasjonskvittering.xsd (elements in schema order, text escaped).
std::string RenderKvittering(const Applikasjonskvittering& kvittering);
// Parses one (same strictness as ParseMelding); kInvalidInput naming what is wrong.
Result<Applikasjonskvittering> ParseKvittering(std::string_view xml);

}  // namespace norreg::mottak
