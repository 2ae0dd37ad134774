/** Akka Management HTTP routes of a node: training status and control, Prometheus metrics. */
package dev.dinoj.deploy.management;
