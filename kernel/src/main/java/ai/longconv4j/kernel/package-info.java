/** ai.longconv4j.kernel */
package ai.longconv4j.kernel;
