// Package suggest reads an unfamiliar CSV export and proposes the mapping file that reads it.
//
// Suggest sniffs the file's conventions (encoding, delimiter, quoting, decimal and thousands
// separators, date formats), maps each header to an Amili field by its name (Swedish, English
// and SAP-style synonyms) or, when the name says nothing, by what the column holds (Luhn-valid
// identity numbers, e-mail addresses, mobile numbers, VAT rates, dates), and leaves every column
// it cannot place under ignore with a comment saying why. Proposal.YAML renders the proposal as
// a mapping file that mapping.ParseLayout reads unchanged; Check reads the file through it as an
// import would and reports the rows that pass.
//
// Sample values quoted in comments have their identity numbers masked, as everywhere else.
package suggest
