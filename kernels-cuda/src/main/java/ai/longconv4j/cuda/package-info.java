/** ai.longconv4j.cuda */
package ai.longconv4j.cuda;
