//! The expression tree: a flat, postfix list of nodes over the input x (docs/method.md §2).
//!
//! [`Expr`] stores nodes in postfix order — children before parents, the root last — the way
//! DynamicExpressions.jl stores a compact node array: evaluation is one forward sweep with no
//! recursion, and a node names its children by index. A parameter on a node multiplies that
//! node's output, i.e. it sits on the edge from the node to its parent (or to the output, for the
//! root). For transformations that are easier on a recursive shape (mutation, simplification)
//! [`Tree`] is the owned recursive form; the two convert losslessly.

use crate::binary::Binary;
use crate::param::{Param, MAX_PARAMS};
use crate::unary::Unary;

/// The deepest expression allowed; keeps every recursive algorithm far from the stack limit.
pub const MAX_DEPTH: usize = 128;

/// What a node computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// The input x (a leaf).
    X,
    /// A unary operator applied to the node at the given index.
    Unary(Unary, usize),
    /// A binary operator applied to the nodes at the given indices (left, right).
    Binary(Binary, usize, usize),
}

/// One node of an [`Expr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Node {
    /// What the node computes.
    pub op: Op,
    /// The parameter that multiplies this node's output, if any.
    pub param: Option<Param>,
}

/// An activation-function expression: a tree of operators over x, in postfix order.
///
/// Build one with [`Expr::parse`] / `str::parse`, [`Expr::x`], [`Expr::unary`],
/// [`Expr::binary`] and [`Expr::with_param`]; print its canonical text with `Display`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expr {
    nodes: Vec<Node>,
}

/// The recursive, owned form of an expression, for transformations.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tree {
    /// The input x, possibly scaled by a parameter.
    X(Option<Param>),
    /// A unary node.
    Unary(Unary, Option<Param>, Box<Tree>),
    /// A binary node.
    Binary(Binary, Option<Param>, Box<Tree>, Box<Tree>),
}

impl Expr {
    /// The expression `x`.
    pub fn x() -> Expr {
        Expr {
            nodes: vec![Node {
                op: Op::X,
                param: None,
            }],
        }
    }

    /// `op(child)`.
    pub fn unary(op: Unary, child: Expr) -> Expr {
        let mut nodes = child.nodes;
        let c = nodes.len() - 1;
        nodes.push(Node {
            op: Op::Unary(op, c),
            param: None,
        });
        Expr { nodes }
    }

    /// `op(left, right)`.
    pub fn binary(op: Binary, left: Expr, right: Expr) -> Expr {
        let mut nodes = left.nodes;
        let l = nodes.len() - 1;
        let offset = nodes.len();
        nodes.extend(right.nodes.into_iter().map(|n| n.shifted(offset)));
        let r = nodes.len() - 1;
        nodes.push(Node {
            op: Op::Binary(op, l, r),
            param: None,
        });
        Expr { nodes }
    }

    /// The same expression with `param` on its root's output edge (replacing any there).
    pub fn with_param(mut self, param: Option<Param>) -> Expr {
        self.nodes
            .last_mut()
            .expect("an expression has a root")
            .param = param;
        self
    }

    /// The nodes in postfix order; the root is the last.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The index of the root node.
    pub fn root(&self) -> usize {
        self.nodes.len() - 1
    }

    /// The number of nodes.
    pub fn size(&self) -> usize {
        self.nodes.len()
    }

    /// The number of nodes on the longest root-to-leaf path.
    pub fn depth(&self) -> usize {
        let mut depth = vec![0usize; self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            depth[i] = 1 + match n.op {
                Op::X => 0,
                Op::Unary(_, c) => depth[c],
                Op::Binary(_, l, r) => depth[l].max(depth[r]),
            };
        }
        depth[self.root()]
    }

    /// The distinct parameters used, in slot order (α, β, γ).
    pub fn params(&self) -> Vec<Param> {
        let mut used = [false; MAX_PARAMS];
        for n in &self.nodes {
            if let Some(p) = n.param {
                used[p.index()] = true;
            }
        }
        Param::ALL.into_iter().filter(|p| used[p.index()]).collect()
    }

    /// Whether the expression carries any parameter.
    pub fn is_parametric(&self) -> bool {
        self.nodes.iter().any(|n| n.param.is_some())
    }

    /// The same expression with every parameter removed.
    pub fn without_params(&self) -> Expr {
        Expr {
            nodes: self
                .nodes
                .iter()
                .map(|n| Node {
                    op: n.op,
                    param: None,
                })
                .collect(),
        }
    }

    /// The unary operators used, in node order (with repeats).
    pub fn unary_ops(&self) -> impl Iterator<Item = Unary> + '_ {
        self.nodes.iter().filter_map(|n| match n.op {
            Op::Unary(u, _) => Some(u),
            _ => None,
        })
    }

    /// The binary operators used, in node order (with repeats).
    pub fn binary_ops(&self) -> impl Iterator<Item = Binary> + '_ {
        self.nodes.iter().filter_map(|n| match n.op {
            Op::Binary(b, _, _) => Some(b),
            _ => None,
        })
    }

    /// The index of the first node of the subtree rooted at `i` (the subtree is `start..=i`).
    pub fn subtree_start(&self, i: usize) -> usize {
        match self.nodes[i].op {
            Op::X => i,
            Op::Unary(_, c) => self.subtree_start(c),
            Op::Binary(_, l, _) => self.subtree_start(l),
        }
    }

    /// The recursive form.
    pub fn to_tree(&self) -> Tree {
        self.tree_at(self.root())
    }

    fn tree_at(&self, i: usize) -> Tree {
        let n = self.nodes[i];
        match n.op {
            Op::X => Tree::X(n.param),
            Op::Unary(u, c) => Tree::Unary(u, n.param, Box::new(self.tree_at(c))),
            Op::Binary(b, l, r) => Tree::Binary(
                b,
                n.param,
                Box::new(self.tree_at(l)),
                Box::new(self.tree_at(r)),
            ),
        }
    }

    /// Builds the flat form from a tree.
    pub fn from_tree(tree: &Tree) -> Expr {
        let mut nodes = Vec::with_capacity(tree.size());
        fn push(t: &Tree, nodes: &mut Vec<Node>) -> usize {
            let (op, param) = match t {
                Tree::X(p) => (Op::X, *p),
                Tree::Unary(u, p, c) => (Op::Unary(*u, push(c, nodes)), *p),
                Tree::Binary(b, p, l, r) => {
                    let l = push(l, nodes);
                    let r = push(r, nodes);
                    (Op::Binary(*b, l, r), *p)
                }
            };
            nodes.push(Node { op, param });
            nodes.len() - 1
        }
        push(tree, &mut nodes);
        Expr { nodes }
    }
}

impl Node {
    fn shifted(self, offset: usize) -> Node {
        let op = match self.op {
            Op::X => Op::X,
            Op::Unary(u, c) => Op::Unary(u, c + offset),
            Op::Binary(b, l, r) => Op::Binary(b, l + offset, r + offset),
        };
        Node {
            op,
            param: self.param,
        }
    }
}

impl Tree {
    /// The parameter on this node's output edge.
    pub fn param(&self) -> Option<Param> {
        match self {
            Tree::X(p) | Tree::Unary(_, p, _) | Tree::Binary(_, p, _, _) => *p,
        }
    }

    /// Sets the parameter on this node's output edge.
    pub fn set_param(&mut self, param: Option<Param>) {
        match self {
            Tree::X(p) | Tree::Unary(_, p, _) | Tree::Binary(_, p, _, _) => *p = param,
        }
    }

    /// The number of nodes.
    pub fn size(&self) -> usize {
        match self {
            Tree::X(_) => 1,
            Tree::Unary(_, _, c) => 1 + c.size(),
            Tree::Binary(_, _, l, r) => 1 + l.size() + r.size(),
        }
    }

    /// The number of nodes on the longest root-to-leaf path.
    pub fn depth(&self) -> usize {
        match self {
            Tree::X(_) => 1,
            Tree::Unary(_, _, c) => 1 + c.depth(),
            Tree::Binary(_, _, l, r) => 1 + l.depth().max(r.depth()),
        }
    }

    /// Visits every node in preorder (parent before children, left before right).
    pub fn preorder_mut(&mut self, f: &mut impl FnMut(&mut Tree)) {
        f(self);
        match self {
            Tree::X(_) => {}
            Tree::Unary(_, _, c) => c.preorder_mut(f),
            Tree::Binary(_, _, l, r) => {
                l.preorder_mut(f);
                r.preorder_mut(f);
            }
        }
    }

    /// Visits every node in preorder.
    pub fn preorder(&self, f: &mut impl FnMut(&Tree)) {
        f(self);
        match self {
            Tree::X(_) => {}
            Tree::Unary(_, _, c) => c.preorder(f),
            Tree::Binary(_, _, l, r) => {
                l.preorder(f);
                r.preorder(f);
            }
        }
    }

    /// The `k`-th node in preorder, mutably.
    pub fn nth_mut(&mut self, k: usize) -> Option<&mut Tree> {
        fn go<'a>(t: &'a mut Tree, k: &mut usize) -> Option<&'a mut Tree> {
            if *k == 0 {
                return Some(t);
            }
            *k -= 1;
            match t {
                Tree::X(_) => None,
                Tree::Unary(_, _, c) => go(c, k),
                Tree::Binary(_, _, l, r) => {
                    if let Some(found) = go(l, k) {
                        return Some(found);
                    }
                    go(r, k)
                }
            }
        }
        let mut k = k;
        go(self, &mut k)
    }
}

impl From<&Tree> for Expr {
    fn from(t: &Tree) -> Expr {
        Expr::from_tree(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_make_postfix() {
        let e = Expr::binary(
            Binary::Mul,
            Expr::x().with_param(Some(Param::Alpha)),
            Expr::unary(Unary::Sigmoid, Expr::x().with_param(Some(Param::Beta))),
        );
        assert_eq!(e.size(), 4);
        assert_eq!(e.depth(), 3);
        assert_eq!(e.nodes()[3].op, Op::Binary(Binary::Mul, 0, 2));
        assert_eq!(e.params(), vec![Param::Alpha, Param::Beta]);
        assert_eq!(Expr::from_tree(&e.to_tree()), e);
        assert_eq!(e.subtree_start(2), 1);
    }

    #[test]
    fn nth_mut_walks_preorder() {
        let e = Expr::binary(Binary::Add, Expr::unary(Unary::Tanh, Expr::x()), Expr::x());
        let mut t = e.to_tree();
        assert!(matches!(t.nth_mut(1), Some(Tree::Unary(Unary::Tanh, _, _))));
        assert!(matches!(t.nth_mut(3), Some(Tree::X(_))));
        assert!(t.nth_mut(4).is_none());
    }
}
