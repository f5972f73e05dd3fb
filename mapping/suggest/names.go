package suggest

import (
	"slices"
	"strings"
	"sync"
)

// headerTables are the lookups by normalised header, built the first time a file is looked at
// rather than at every start of the program.
type headerTables struct {
	synonyms map[string]string // header → the invoice field it names
	notSent  map[string]string // header → why Amili does not take its value
}

var tables = sync.OnceValue(func() headerTables {
	t := headerTables{synonyms: map[string]string{}, notSent: map[string]string{}}
	for why, names := range notSentLists() {
		for _, n := range names {
			t.notSent[n] = why
		}
	}
	for f, names := range synonymLists() {
		for _, n := range names {
			t.synonyms[n] = f
		}
	}
	return t
})

// synonymLists are the names Swedish ERPs (Fortnox, Visma, Monitor, Pyramid), English exports
// and SAP tables (BELNR, BLDAT, KUNNR …) write for each invoice field.
func synonymLists() map[string][]string {
	return map[string][]string{
		"invoice_number": {"fakturanummer", "fakturanr", "faktnr", "fakturanumber", "faktura", "fakturaid",
			"invoicenumber", "invoiceno", "invoicenr", "invoice", "invoiceid", "documentnumber", "documentno", "docno", "belnr", "vbeln", "xblnr",
			"referencedocument", "billingdocument", "rechnungsnummer"},
		"invoice_date": {"fakturadatum", "faktdatum", "fakturadag", "invoicedate", "documentdate", "docdate", "bldat", "fkdat",
			"billingdate", "belegdatum", "rechnungsdatum"},
		"invoice_due_date": {"förfallodatum", "förfallodag", "förfdatum", "förfallo", "sistabetalningsdag", "betalasenast",
			"duedate", "netduedate", "paymentduedate", "faedt", "netdt", "fälligkeit", "fälligkeitsdatum"},
		"invoice_delivery_date": {"leveransdatum", "levdatum", "deliverydate", "lfdat", "leistungsdatum"},
		"currency":              {"valuta", "valutakod", "currency", "currencycode", "curr", "waers", "waerk", "währung"},
		"reference_number":      {"ocr", "ocrnummer", "ocrnr", "ocrreferens", "betalningsreferens", "paymentreference"},
		"our_reference":         {"vårreferens", "vårref", "ourreference", "ourref"},
		"your_reference":        {"erreferens", "erref", "kundreferens", "yourreference", "yourref", "customerreference"},
		"invoice_headline":      {"rubrik", "fakturarubrik", "headline", "subject"},
		"invoice_body_text":     {"fakturatext", "meddelande", "bodytext", "message"},
		"customer.customer_number": {"kundnummer", "kundnr", "kundid", "kund", "debitor", "debitornummer", "debitornr",
			"customernumber", "customerno", "customernr", "customerid", "customer", "kunnr", "kunag", "kunrg", "debtor", "account", "soldto"},
		"customer.name": {"kundnamn", "namn", "name", "customername", "företagsnamn", "företag", "mottagare", "fakturamottagare",
			"name1", "debtorname", "accountname", "companyname"},
		"customer.id_number": {"personnummer", "personnr", "persnr", "organisationsnummer", "orgnummer", "orgnr", "personorgnr",
			"personorganisationsnummer", "orgpersnr", "persorgnr", "orgnrpersnr", "persnrorgnr", "organisationsnummerpersonnummer", "personnummerorganisationsnummer",
			"identitetsnummer", "idnummer", "idnr", "identitynumber", "idnumber", "nationalid", "corporateid", "companyregistrationnumber",
			"registrationnumber", "taxnumber", "taxnumber1", "stcd1", "regnr", "personalidentitynumber"},
		"customer.type": {"kundtyp", "kundkategori", "customertype", "typ"},
		"customer.address.address_line_1": {"adress", "adress1", "gatuadress", "utdelningsadress", "fakturaadress", "address",
			"address1", "addressline1", "street", "streetaddress", "stras", "straße"},
		"customer.address.address_line_2": {"adress2", "coadress", "co", "address2", "addressline2"},
		"customer.address.zip_code":       {"postnr", "postnummer", "postkod", "zip", "zipcode", "postalcode", "postcode", "pstlz", "plz"},
		"customer.address.city":           {"ort", "postort", "stad", "city", "town", "ort01", "ortpostort"},
		"customer.address.country":        {"land", "landskod", "country", "countrycode", "land1"},
		"customer.email":                  {"epost", "epostadress", "mejl", "mail", "email", "emailaddress", "smtpaddr", "fakturaepost"},
		"customer.mobile_number":          {"mobil", "mobilnummer", "mobilnr", "mobiltelefon", "mobile", "mobilenumber", "mobilephone", "cellphone"},
		"matrix.article_number": {"artikelnr", "artikelnummer", "artnr", "artikel", "produktnr", "produktnummer", "articlenumber",
			"articleno", "itemnumber", "itemno", "item", "material", "matnr", "productnumber", "productid", "sku"},
		"matrix.article_description": {"benämning", "artikelbenämning", "beskrivning", "text", "artikeltext", "radtext", "specifikation",
			"description", "itemdescription", "articledescription", "maktx", "arktx", "sgtxt", "linetext"},
		"matrix.number_of_units": {"antal", "antalst", "kvantitet", "levantal", "fakturerat", "quantity", "qty", "units", "menge", "fkimg", "fkmng"},
		"matrix.unit_price": {"àpris", "apris", "ápris", "pris", "styckpris", "enhetspris", "prisst", "prisexklmoms", "unitprice",
			"price", "priceperunit", "netpr", "kbetr", "netprice"},
		"matrix.total_price_excluding_vat": {"belopp", "summa", "radbelopp", "radsumma", "beloppexklmoms", "summaexklmoms", "nettobelopp",
			"netto", "totaltexklmoms", "linetotal", "amount", "netamount", "netvalue", "netwr", "dmbtr", "wrbtr", "lineamount"},
		"matrix.unit_vat_percent": {"moms", "momssats", "momsprocent", "momsp", "moms%", "vat", "vatrate", "vatpercent", "vat%",
			"taxrate", "taxpercent", "mwst", "mwstsatz", "steuersatz"},
		"pdf_file": {"pdf", "pdffil", "pdffile", "filnamn", "filename", "fakturapdf"},
		// Case files: a ledger of unpaid invoices.
		"debts.capital_to_claim": {"kapital", "kapitalbelopp", "restbelopp", "restskuld", "skuld", "obetalt", "obetaltbelopp",
			"utestående", "uteståendebelopp", "kvarattbetala", "capital", "outstanding", "outstandingamount", "openamount", "balance", "amountdue"},
		"debts.fees_included_in_capital_to_claim.invoice_fee": {"fakturaavgift", "aviavgift", "invoicefee"},
		"debts.fees_already_claimed.reminder.amount":          {"påminnelseavgift", "reminderfee"},
		"debts.invoice_due_days_after_invoice_date":           {"kredittid", "kreditdagar", "betalningsdagar", "duedays", "paymentdays", "creditdays"},
		"first_action": {"åtgärd", "nästaåtgärd", "firstaction", "action"},
	}
}

// notSentLists are headers ERPs write for values Amili does not take or computes itself, by
// why.
func notSentLists() map[string][]string {
	return map[string][]string{
		"an amount including VAT: Amili computes it from the lines": {"totalt", "total", "totaltinklmoms", "summainklmoms",
			"beloppinklmoms", "attbetala", "brutto", "bruttobelopp", "totalinclvat", "grossamount", "amountinclvat", "totalamount"},
		"a VAT amount: Amili computes it from the line and the rate": {"momsbelopp", "momskr", "vatamount", "taxamount", "mwstbetrag"},
		"a rounding amount: Amili rounds the total itself":           {"öresavrundning", "avrundning", "rounding"},
	}
}

// canonicalFields are the mapping package's own field names: a header that is one maps to it.
var canonicalFields = []string{
	"invoice_number", "invoice_date", "invoice_due_date", "invoice_delivery_date", "invoice_type",
	"reference_number", "payout_reference", "invoice_headline", "invoice_body_text", "your_contact",
	"your_reference", "our_reference", "debt_description", "currency", "creditor", "first_action",
	"customer.name", "customer.customer_number", "customer.id_number", "customer.is_person",
	"customer.is_company", "customer.is_foreign", "customer.type", "customer.address.address_line_1",
	"customer.address.address_line_2", "customer.address.zip_code", "customer.address.city",
	"customer.address.country", "customer.email", "customer.mobile_number", "matrix.article_number",
	"matrix.article_description", "matrix.number_of_units", "matrix.unit_price",
	"matrix.total_price_excluding_vat", "matrix.unit_vat_percent", "debts.invoice_number",
	"debts.debt_description", "debts.invoice_date", "debts.capital_to_claim",
	"debts.invoice_due_days_after_invoice_date", "debts.invoice_due_date",
	"debts.fees_included_in_capital_to_claim.invoice_fee",
	"debts.fees_already_claimed.reminder.amount",
	"debts.fees_already_claimed.reminder.fee_registration_date", "pdf_file",
}

// caseFields are the fields an invoice synonym stands for in a case file.
var caseFields = map[string]string{
	"invoice_number":             "debts.invoice_number",
	"invoice_date":               "debts.invoice_date",
	"invoice_due_date":           "debts.invoice_due_date",
	"matrix.article_description": "debts.debt_description",
	"invoice_headline":           "debts.debt_description",
}

// normHeader lower-cases a header and drops what ERPs vary between spellings: blanks,
// punctuation, "no."/"nr." dots, accents on a (À-pris, Á-pris), and SAP's table prefixes
// (BSEG-BELNR).
func normHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if i := strings.IndexByte(h, '-'); i > 0 && sapTables[h[:i]] {
		h = h[i+1:]
	}
	var b strings.Builder
	for _, r := range h {
		switch {
		case r == 'à' || r == 'á':
			b.WriteRune('a')
		case r == 'é' || r == 'è':
			b.WriteRune('e')
		case r == '%':
			b.WriteRune(r)
		case r == '.' || r == '-' || r == '_' || r == '/' || r == ' ' || r == '#' || r == ':' || r == '(' || r == ')' || r == '\'' || r == '*':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

var sapTables = map[string]bool{"bkpf": true, "bseg": true, "bsid": true, "vbrk": true, "vbrp": true, "kna1": true, "adrc": true}

// fieldByName is the field a header names, or "".
func fieldByName(header string) string {
	if f := strings.ToLower(strings.TrimSpace(header)); slices.Contains(canonicalFields, f) {
		return f
	}
	n := normHeader(header)
	if f, ok := tables().synonyms[n]; ok {
		return f
	}
	if f, ok := tables().synonyms[strings.TrimSuffix(n, "%")]; ok {
		return f
	}
	return ""
}
