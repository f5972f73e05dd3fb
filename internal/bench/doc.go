// Package bench measures amili-import end to end: it generates a workload (a canonical CSV of
// invoices or debts and their PDFs), serves it from the in-process SFTP server, runs the real
// importer against the in-process Amili sandbox over real HTTP on 127.0.0.1 with a given
// latency and rate limit, and reports calls, throughput against its ceilings, 429s, CPU time
// and peak memory. cmd/amili-import's bench verb prints the table; each scenario runs in a
// child process so that its peak RSS is its own.
package bench
