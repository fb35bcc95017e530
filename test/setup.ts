import fc from 'fast-check';

// Property tests are deterministic in CI: one fixed seed unless FC_SEED asks for another
// (e.g. FC_SEED=$RANDOM npm test to explore). A failing seed is printed by fast-check; keep it.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261124) });
