/** ai.longconv4j.examples */
package ai.longconv4j.examples;
