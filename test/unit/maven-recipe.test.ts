import { describe, expect, it } from 'vitest';
import type { MavenRecipe } from '../../src/images/catalog-types.js';
import { DEPENDENCY_PLUGIN, mavenArgs, mavenCacheName, renderPom } from '../../src/images/recipes/maven.js';

const kafka: MavenRecipe = {
  kind: 'maven',
  artifacts: ['org.apache.kafka:kafka_2.13:3.9.1', 'org.slf4j:slf4j-reload4j:1.7.36'],
  transitive: true,
  output: 'kafka-libs',
};

describe('maven recipe', () => {
  it('writes a throwaway POM with one dependency per coordinate', () => {
    const pom = renderPom(kafka.artifacts);
    expect(pom).toContain('<packaging>pom</packaging>');
    expect(pom).toContain(
      [
        '    <dependency>',
        '      <groupId>org.apache.kafka</groupId>',
        '      <artifactId>kafka_2.13</artifactId>',
        '      <version>3.9.1</version>',
        '    </dependency>',
      ].join('\n'),
    );
    expect(pom.match(/<dependency>/g)).toHaveLength(2);
    expect(pom).not.toContain('<scope>'); // compile scope: the runtime closure comes along
  });

  it('copies the runtime closure with a pinned plugin into the given directory, from a local repository', () => {
    expect(mavenArgs(kafka, '/cache/tools/maven/repository', '/cache/jars')).toEqual([
      '-B',
      '-q',
      '-Dmaven.repo.local=/cache/tools/maven/repository',
      `${DEPENDENCY_PLUGIN}:copy-dependencies`,
      '-DincludeScope=runtime',
      '-DexcludeTransitive=false',
      '-DoutputDirectory=/cache/jars',
    ]);
    expect(DEPENDENCY_PLUGIN).toMatch(/^org\.apache\.maven\.plugins:maven-dependency-plugin:\d+\.\d+\.\d+$/);
    expect(mavenArgs({ ...kafka, transitive: false }, '/r', '/o')).toContain('-DexcludeTransitive=true');
  });

  it('caches by coordinate list and transitivity, not by output name', () => {
    const name = mavenCacheName(kafka);
    expect(name).toMatch(/^[0-9a-f]{16}$/);
    expect(mavenCacheName({ ...kafka, output: 'other' })).toBe(name);
    expect(mavenCacheName({ ...kafka, transitive: false })).not.toBe(name);
    expect(mavenCacheName({ ...kafka, artifacts: ['org.apache.kafka:kafka_2.13:3.9.0'] })).not.toBe(name);
  });
});
