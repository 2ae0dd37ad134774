/** dinoj evaluation module. */
package dev.dinoj.evaluation;
