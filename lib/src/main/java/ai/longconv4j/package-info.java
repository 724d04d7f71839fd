/** longconv4j: long-convolution sequence models on the JVM. */
package ai.longconv4j;
