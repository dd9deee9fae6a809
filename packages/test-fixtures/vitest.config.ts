export { default } from '../../tools/vitest-config';
