/** dinoj actors module. */
package dev.dinoj.actors;
