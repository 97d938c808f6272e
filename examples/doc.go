// Package examples holds no code: each directory below is a runnable
// program (see README.md). The test here checks their deploy builds.
package examples
