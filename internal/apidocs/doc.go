// Package apidocs holds the test that keeps the typed clients' doc
// comments tied to the official Bitrix24 REST documentation: every method
// that calls the portal names its Bitrix24 method and links its page.
package apidocs
