/**
 * Errors a user can fix: bad input reported as one line naming the file, key or object, with exit code 2 and no
 * stack trace ({@link dev.dinoj.deploy.errors.UserError}); used by every layer of the deploy module.
 */
package dev.dinoj.deploy.errors;
