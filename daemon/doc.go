// Package daemon is the long-running service: it schedules every enabled job and report of a
// config (schedules.Scheduler), runs each job under its lease with the same metrics and log
// lines as a one-shot run (Job), reloads the config on SIGHUP, drains on SIGTERM, and serves
// /healthz, /readyz and /metrics.
//
// How one job or report is run (the ledger, the client, the source) is the caller's: cmd
// builds a Runner for each config it loads, and this package never reads secrets or opens a
// connection of its own.
package daemon
