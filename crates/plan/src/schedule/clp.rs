//! The LP relaxation of the shift plan, solved by CLP (the LP engine inside CBC) through its C
//! interface.
//!
//! Why not through CBC: CBC's C interface solves a model's root LP by dual simplex and ignores
//! the command-line options that choose otherwise (its `-primalS` action even crashes there,
//! calling a null callback). On the Double-11 week (~30,000 columns, ~16,000 rows) CLP's primal
//! simplex after its "idiot" crash takes about a quarter of the time of that dual simplex
//! (7.5 s against 27 s of CPU, measured with `clp` on the same model), and the LP is most of the
//! solve. CLP's barrier with crossover to a vertex is faster again on the bundled week with 749
//! agents (8,623 integer and 21,504 continuous columns, 16,560 rows): LP 11.5 s against 15.9 s
//! for primal-after-idiot, back to back on the same requirements under load 5, and the rounded
//! plan it leads to was no worse (gap 0.22% against 0.23%). Without crossover the barrier is a
//! little faster still (10.7 s), but its interior point rounds to a worse plan (0.33%) that the
//! local search then takes longer to repair. The library is the one CBC links anyway (`coinor-libclp-dev` comes with
//! `coinor-libcbc-dev`), so this adds no dependency.
//!
//! The good_lp problem is read back as a column-major matrix, so the model stays written once,
//! in good_lp.

use std::collections::HashMap;
use std::os::raw::{c_double, c_int};
use std::sync::Mutex;

use good_lp::{Constraint, Expression, IntoAffineExpression, ProblemVariables, Variable};

use super::solver::SolveFailure;

#[repr(C)]
struct ClpSimplex {
    _opaque: [u8; 0],
}

#[repr(C)]
struct ClpSolve {
    _opaque: [u8; 0],
}

#[link(name = "Clp")]
extern "C" {
    fn Clp_newModel() -> *mut ClpSimplex;
    fn Clp_deleteModel(model: *mut ClpSimplex);
    fn ClpSolve_new() -> *mut ClpSolve;
    fn ClpSolve_delete(solve: *mut ClpSolve);
    #[allow(clippy::too_many_arguments)]
    fn Clp_loadProblem(
        model: *mut ClpSimplex,
        numcols: c_int,
        numrows: c_int,
        start: *const c_int,
        index: *const c_int,
        value: *const c_double,
        collb: *const c_double,
        colub: *const c_double,
        obj: *const c_double,
        rowlb: *const c_double,
        rowub: *const c_double,
    );
    fn Clp_setLogLevel(model: *mut ClpSimplex, value: c_int);
    fn Clp_setMaximumSeconds(model: *mut ClpSimplex, value: c_double);
    fn ClpSolve_setSolveType(solve: *mut ClpSolve, method: c_int, extra_info: c_int);
    fn Clp_initialSolveWithOptions(model: *mut ClpSimplex, solve: *mut ClpSolve) -> c_int;
    fn Clp_status(model: *mut ClpSimplex) -> c_int;
    fn Clp_objectiveValue(model: *mut ClpSimplex) -> c_double;
    fn Clp_getColSolution(model: *mut ClpSimplex) -> *const c_double;
}

/// ClpSolve::SolveType::useBarrier (interior point, then crossover to a basic solution).
const USE_BARRIER: c_int = 3;

/// CLP keeps some global state (message handlers); one solve at a time.
static CLP: Mutex<()> = Mutex::new(());

/// Owns a CLP model and frees it on every path out.
struct Owned(*mut ClpSimplex);

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: the pointer came from Clp_newModel and is freed exactly once, here.
        unsafe { Clp_deleteModel(self.0) }
    }
}

/// Solves the LP `min objective s.t. constraints` (integrality ignored), returning the values of
/// `wanted` and the objective (with its constant).
pub fn minimise(
    vars: &ProblemVariables,
    objective: &Expression,
    constraints: &[Constraint],
    wanted: &[Variable],
    time_limit_seconds: f64,
) -> Result<(Vec<f64>, f64), SolveFailure> {
    let columns: Vec<(Variable, f64, f64)> = vars
        .iter_variables_with_def()
        .map(|(v, def)| (v, def.get_min(), def.get_max()))
        .collect();
    let index: HashMap<Variable, usize> =
        columns.iter().enumerate().map(|(i, c)| (c.0, i)).collect();
    let n = columns.len();
    let mut obj = vec![0.0; n];
    for (v, c) in objective.linear_coefficients() {
        obj[index[&v]] += c;
    }
    // Rows: expression ≤ 0 or = 0, i.e. Σ a·x ≤ −constant.
    let mut row_lo = Vec::with_capacity(constraints.len());
    let mut row_hi = Vec::with_capacity(constraints.len());
    let mut by_column: Vec<Vec<(c_int, f64)>> = vec![Vec::new(); n];
    for (r, c) in constraints.iter().enumerate() {
        let e = c.expression();
        let rhs = -e.constant();
        row_lo.push(if c.is_equality() {
            rhs
        } else {
            f64::NEG_INFINITY
        });
        row_hi.push(rhs);
        for (v, a) in e.linear_coefficients() {
            if a != 0.0 {
                by_column[index[&v]].push((r as c_int, a));
            }
        }
    }
    let mut start = Vec::with_capacity(n + 1);
    let mut rows = Vec::new();
    let mut values = Vec::new();
    start.push(0 as c_int);
    for col in &by_column {
        for &(r, a) in col {
            rows.push(r);
            values.push(a);
        }
        start.push(rows.len() as c_int);
    }
    let (lo, hi): (Vec<f64>, Vec<f64>) = columns.iter().map(|c| (c.1, c.2)).unzip();
    let infinite = |x: f64| {
        if x.is_infinite() {
            x.signum() * f64::MAX
        } else {
            x
        }
    };
    let lo: Vec<f64> = lo.into_iter().map(infinite).collect();
    let hi: Vec<f64> = hi.into_iter().map(infinite).collect();
    let row_lo: Vec<f64> = row_lo.into_iter().map(infinite).collect();
    let row_hi: Vec<f64> = row_hi.into_iter().map(infinite).collect();

    let _guard = CLP.lock().unwrap_or_else(|p| p.into_inner());
    // SAFETY: every array passed has the length CLP is told (n columns, constraints.len() rows,
    // start of n + 1 entries ending at rows.len()); CLP copies them during loadProblem. The
    // model pointer is owned by `model` and not used after it is dropped.
    unsafe {
        let model = Owned(Clp_newModel());
        Clp_setLogLevel(model.0, 0);
        Clp_loadProblem(
            model.0,
            n as c_int,
            constraints.len() as c_int,
            start.as_ptr(),
            rows.as_ptr(),
            values.as_ptr(),
            lo.as_ptr(),
            hi.as_ptr(),
            obj.as_ptr(),
            row_lo.as_ptr(),
            row_hi.as_ptr(),
        );
        Clp_setMaximumSeconds(model.0, time_limit_seconds.max(1.0));
        let options = ClpSolve_new();
        ClpSolve_setSolveType(options, USE_BARRIER, 0);
        Clp_initialSolveWithOptions(model.0, options);
        ClpSolve_delete(options);
        match Clp_status(model.0) {
            0 => {}
            1 => return Err(SolveFailure::Infeasible),
            3 => return Err(SolveFailure::NoSolution),
            s => return Err(SolveFailure::Other(format!("CLP stopped with status {s}"))),
        }
        let solution = std::slice::from_raw_parts(Clp_getColSolution(model.0), n);
        let out = wanted.iter().map(|v| solution[index[v]]).collect();
        Ok((out, Clp_objectiveValue(model.0) + objective.constant()))
    }
}
